// Every secret read and change (Key Vault AuditEvent) and every read, write and delete on the storage services
// goes to the Log Analytics workspace.
param storageName string
param keyVaultName string
param workspaceId string

var storageLogs = [
  { category: 'StorageRead', enabled: true }
  { category: 'StorageWrite', enabled: true }
  { category: 'StorageDelete', enabled: true }
]

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageName

  resource blobs 'blobServices' existing = {
    name: 'default'
  }
  resource queues 'queueServices' existing = {
    name: 'default'
  }
  resource tables 'tableServices' existing = {
    name: 'default'
  }
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

// The newest API of diagnostic settings is this preview (2016-09-01 is an older, different shape).
#disable-next-line use-recent-api-versions
resource vaultAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

#disable-next-line use-recent-api-versions
resource blobLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-log-analytics'
  scope: storage::blobs
  properties: { workspaceId: workspaceId, logs: storageLogs }
}

#disable-next-line use-recent-api-versions
resource queueLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-log-analytics'
  scope: storage::queues
  properties: { workspaceId: workspaceId, logs: storageLogs }
}

#disable-next-line use-recent-api-versions
resource tableLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-log-analytics'
  scope: storage::tables
  properties: { workspaceId: workspaceId, logs: storageLogs }
}
