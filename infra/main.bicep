// The whole deployment of the back-office connector service into one resource group.
// No registry modules: everything builds offline.
targetScope = 'resourceGroup'

@minLength(2)
@maxLength(20)
@description('Name of the environment (azd sets it): letters, digits and hyphens, starting with a letter; part of every resource name.')
param environmentName string

@allowed(['dev', 'prod'])
@description('dev: a trial environment `azd down` removes as it is; prod: resource locks on the data (remove them before `azd down`).')
param environmentType string = 'dev'

@description('Azure region; empty for the resource group\'s. It must offer Flex Consumption (see flexRegions.json).')
param location string = ''

@description('Deploy to a region missing from flexRegions.json (Azure adds regions faster than the list).')
param skipRegionCheck bool = false

@allowed(['20', '22'])
@description('Node.js major version of the Functions runtime.')
param nodeVersion string = '22'

@minLength(3)
@description('E-mail that receives the alerts (required: an alert without a receiver reaches nobody).')
param alertEmail string

@minLength(1)
@description('The audience of the API\'s tokens: the client id (or application ID URI) of its Entra app registration.')
param authAudience string

@minValue(40)
@maxValue(1000)
@description('Most instances Flex Consumption may scale out to. Back offices are protected by the per-principal budget, not by this.')
param maximumInstanceCount int = 100

@minValue(512)
@maxValue(4096)
@description('Memory of each instance: 512, 2048 (one vCPU) or 4096 (checked below: an int from the parameter file cannot carry @allowed).')
param instanceMemoryMB int = 2048

@minValue(0)
@maxValue(20)
@description('Instances kept running for the HTTP functions (no cold start for the API); billed while idle. 0: scale to zero.')
param alwaysReadyInstances int = 0

@description('Spread the Flex Consumption plan\'s instances over availability zones (needs a region with zones; makes storage ZRS).')
param zoneRedundant bool = false

@maxLength(4)
@description('Appended to the Key Vault name: a new vault after `azd down`, whose soft-deleted vault keeps the old name for 90 days.')
param keyVaultNameSuffix string = ''

@description('Recover the soft-deleted vault of the same name instead of creating one (after `azd down`).')
param keyVaultRecover bool = false

@allowed(['auto', 'ZRS', 'LRS'])
@description('Storage redundancy: auto is zone-redundant where the region has availability zones.')
param storageRedundancy string = 'auto'

@description('Storage and Key Vault behind private endpoints in a virtual network, with public access off.')
param vnetEnabled bool = false

@minValue(30)
@maxValue(730)
@description('Days Log Analytics keeps logs, the audit trail of secret reads and storage access among them.')
param logRetentionDays int = 90

@minValue(0)
@description('Most GB Log Analytics ingests per day (beyond it, ingestion stops until the next day); 0: no cap.')
param logDailyCapGb int = 0

@description('Give the deploying principal read access to the tables and access to the queues (to look at rows and poison messages by hand).')
param deployerDataAccess bool = false

@description('The deploying principal (azd sets AZURE_PRINCIPAL_ID); used only with deployerDataAccess.')
param deployerPrincipalId string = ''

@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string = 'User'

@description('Principals (object ids) that may put appointment changes on the queue: Storage Queue Data Message Sender on that queue only.')
param producerPrincipalIds array = []

@allowed(['User', 'ServicePrincipal', 'Group'])
param producerPrincipalType string = 'ServicePrincipal'

var flexRegions = loadJsonContent('flexRegions.json')
var zoneRegions = loadJsonContent('zoneRegions.json')
var allowedChars = 'abcdefghijklmnopqrstuvwxyz0123456789-'
var envChars = map(range(0, length(environmentName)), i => substring(toLower(environmentName), i, 1))
var envNameValid = empty(filter(envChars, c => !contains(allowedChars, c))) && contains('abcdefghijklmnopqrstuvwxyz', envChars[0]) && !endsWith(environmentName, '-') && !contains(environmentName, '--')
// Checked before anything is created: every name below depends on these.
var prefix = envNameValid
  ? toLower(environmentName)
  : fail('environmentName "${environmentName}" cannot name Azure resources: use 2-20 letters, digits and single hyphens, starting with a letter and not ending with a hyphen.')
// Empty: the resource group's region (azd fills AZURE_LOCATION, the region it asked for).
#disable-next-line no-loc-expr-outside-params
var requestedRegion = empty(location) ? resourceGroup().location : location
var region = skipRegionCheck || contains(flexRegions, toLower(requestedRegion))
  ? requestedRegion
  : fail('Flex Consumption is not offered in ${requestedRegion} (infra/flexRegions.json). Pick one of ${join(flexRegions, ', ')}; if `az functionapp list-flexconsumption-locations` lists it now, add it to the file or set skipRegionCheck.')
var isProd = environmentType == 'prod'
var memory = contains([512, 2048, 4096], instanceMemoryMB)
  ? instanceMemoryMB
  : fail('instanceMemoryMB must be 512, 2048 or 4096, not ${instanceMemoryMB}.')
var producers = filter(producerPrincipalIds, p => !empty(trim(string(p))))

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName, application: 'backoffice-connector-service' }
var deploymentContainerName = 'app-package-${take(token, 8)}'
var regionHasZones = contains(zoneRegions, toLower(requestedRegion))
var storageSku = zoneRedundant
  ? (!regionHasZones
      ? fail('zoneRedundant needs a region with availability zones (infra/zoneRegions.json); ${requestedRegion} has none listed.')
      : storageRedundancy == 'LRS'
          ? fail('zoneRedundant needs zone-redundant storage: set storageRedundancy to auto or ZRS.')
          : 'Standard_ZRS')
  : storageRedundancy == 'LRS' || (storageRedundancy == 'auto' && !regionHasZones) ? 'Standard_LRS' : 'Standard_ZRS'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: { name: 'id-${prefix}-${take(token, 6)}', location: region, tags: tags }
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  params: { namePrefix: '${prefix}-${take(token, 6)}', location: region, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${take(token, 20)}'
    location: region
    tags: tags
    sku: storageSku
    deploymentContainerName: deploymentContainerName
    publicAccess: !vnetEnabled
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: {
    name: 'kv-${take(token, 13)}${toLower(keyVaultNameSuffix)}'
    location: region
    tags: tags
    recover: keyVaultRecover
    publicAccess: !vnetEnabled
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    namePrefix: '${prefix}-${take(token, 6)}'
    location: region
    tags: tags
    alertEmail: alertEmail
    retentionInDays: logRetentionDays
    dailyCapGb: logDailyCapGb
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    storageName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    workspaceId: monitoring.outputs.workspaceId
  }
}

module privateEndpoints 'modules/privateEndpoints.bicep' = if (vnetEnabled) {
  name: 'privateEndpoints'
  params: {
    namePrefix: '${prefix}-${take(token, 6)}'
    location: region
    tags: tags
    subnetId: network!.outputs.privateEndpointSubnetId
    vnetId: network!.outputs.vnetId
    storageId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

// Production only: a trial environment must come down with `azd down` as it is.
module locks 'modules/locks.bicep' = if (isProd) {
  name: 'locks'
  params: { storageName: storage.outputs.name, keyVaultName: keyVault.outputs.name }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    storageName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    appointmentsQueueName: storage.outputs.queues.appointments
    producerPrincipalIds: producers
    producerPrincipalType: producerPrincipalType
    deployerPrincipalId: deployerDataAccess ? deployerPrincipalId : ''
    deployerPrincipalType: deployerPrincipalType
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    name: 'func-${prefix}-${take(token, 6)}'
    location: region
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    keyVaultUri: keyVault.outputs.uri
    appInsightsConnectionString: monitoring.outputs.connectionString
    queues: storage.outputs.queues
    authTenantId: tenant().tenantId
    authAudience: authAudience
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: memory
    alwaysReadyInstances: alwaysReadyInstances
    zoneRedundant: zoneRedundant
    subnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
  }
  dependsOn: [roles, privateEndpoints]
}

output AZURE_LOCATION string = region
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}/api'
output KEY_VAULT_URI string = keyVault.outputs.uri
output KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output APPOINTMENTS_QUEUE_URL string = '${storage.outputs.queueEndpoint}${storage.outputs.queues.appointments}'
