// The whole deployment of the back-office connector service into one resource group.
// No registry modules: everything builds offline.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(20)
@description('Name of the environment (azd sets it); part of every resource name.')
param environmentName string

@description('Azure region; defaults to the resource group\'s.')
param location string = resourceGroup().location

@allowed(['20', '22'])
@description('Node.js major version of the Functions runtime.')
param nodeVersion string = '22'

@description('E-mail that receives the alerts; empty for none.')
param alertEmail string = ''

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var prefix = toLower(environmentName)
var tags = { 'azd-env-name': environmentName, application: 'backoffice-connector-service' }
var deploymentContainerName = 'app-package-${take(token, 8)}'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: { name: 'id-${prefix}-${take(token, 6)}', location: location, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: { name: 'st${take(token, 20)}', location: location, tags: tags, deploymentContainerName: deploymentContainerName }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: { name: 'kv-${take(token, 20)}', location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { namePrefix: '${prefix}-${take(token, 6)}', location: location, tags: tags, alertEmail: alertEmail }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    storageName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    name: 'func-${prefix}-${take(token, 6)}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    keyVaultUri: keyVault.outputs.uri
    appInsightsConnectionString: monitoring.outputs.connectionString
    appointmentsQueue: storage.outputs.appointmentsQueue
    appointmentRetriesQueue: storage.outputs.appointmentRetriesQueue
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  dependsOn: [roles]
}

output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = 'https://${functionApp.outputs.defaultHostName}/api'
output KEY_VAULT_URI string = keyVault.outputs.uri
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
