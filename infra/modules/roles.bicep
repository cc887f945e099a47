// Least-privilege role assignments: the app's identity, each role on the one resource it needs; producers may
// only add messages to the appointments queue; the deploying principal, when asked, may read the tables and
// work the queues by hand (never the vault: secrets stay with the app).
param principalId string
param storageName string
param keyVaultName string
param appInsightsName string
param appointmentsQueueName string
@description('Principals that may put changes on the appointments queue.')
param producerPrincipalIds array
param producerPrincipalType string
@description('The deploying principal, for data access by hand; empty for none.')
param deployerPrincipalId string
param deployerPrincipalType string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // host leases, deployment package
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // triggers, enqueue, poison queues
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // connectors, action URIs, deliveries
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // connector secrets
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Entra-authenticated telemetry
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a' // producers: add messages, nothing else
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6' // the deployer: read rows by hand
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
    name: guid(storage.id, principalId, role)
    scope: storage
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

resource monitoringRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' existing = {
  parent: storage
  name: 'default'
}

resource appointmentsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' existing = {
  parent: queueService
  name: appointmentsQueueName
}

resource producerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for producer in producerPrincipalIds: {
    name: guid(appointmentsQueue.id, producer, roles.storageQueueDataMessageSender)
    scope: appointmentsQueue
    properties: {
      principalId: producer
      principalType: producerPrincipalType
      roleDefinitionId: subscriptionResourceId(
        'Microsoft.Authorization/roleDefinitions',
        roles.storageQueueDataMessageSender
      )
    }
  }
]

resource deployerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in empty(deployerPrincipalId) ? [] : [roles.storageTableDataReader, roles.storageQueueDataContributor]: {
    name: guid(storage.id, deployerPrincipalId, role)
    scope: storage
    properties: {
      principalId: deployerPrincipalId
      principalType: deployerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]
