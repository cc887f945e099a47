// The Flex Consumption (FC1) function app on Linux: identity-based storage and deployment, https only,
// TLS 1.2+, basic publishing off. The runtime comes from functionAppConfig; nothing on the Flex Consumption
// deprecation list is set (no ftpsState, no FUNCTIONS_WORKER_RUNTIME, ...): newer stamps reject those.
param name string
param location string
param tags object
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param keyVaultUri string
param appInsightsConnectionString string
@description('The queue names of src/platform/resourceNames.json.')
param queues object
param authTenantId string
param authAudience string
@allowed(['20', '22'])
param nodeVersion string
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int
@description('Instances kept running for the HTTP functions; 0 for none.')
param alwaysReadyInstances int
@description('Spread the plan over availability zones.')
param zoneRedundant bool
@description('The subnet the app runs in (virtual network integration); empty for none.')
param subnetId string

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true, zoneRedundant: zoneRedundant }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // 'http' is the group of every HTTP function: the API answers without a cold start.
        alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []
      }
      runtime: { name: 'node', version: nodeVersion }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: {
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
      AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
      AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
      AZURE_CLIENT_ID: identityClientId
      KEY_VAULT_URI: keyVaultUri
      APPOINTMENTS_QUEUE: queues.appointments
      APPOINTMENT_RETRIES_QUEUE: queues.appointmentRetries
      RECOVERIES_QUEUE: queues.recoveries
      POISON_SWEEP_SCHEDULE: '0 */1 * * * *'
      BACKOFFICE_ALLOW_LOOPBACK: 'false'
      AUTH_MODE: 'entra'
      AUTH_TENANT_ID: authTenantId
      AUTH_AUDIENCE: authAudience
    }
  }

  resource ftp 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }

  resource scm 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
