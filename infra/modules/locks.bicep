// CanNotDelete locks on what holds data that cannot be rebuilt: the storage account (connectors, delivery
// log, audit) and the vault (connector secrets). `azd down` fails while they are there: remove them first.
param storageName string
param keyVaultName string

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource storageLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'do-not-delete-storage'
  scope: storage
  properties: {
    level: 'CanNotDelete'
    notes: 'Connectors, the delivery log and the audit trail live here. Remove the lock before azd down.'
  }
}

resource vaultLock 'Microsoft.Authorization/locks@2020-05-01' = {
  name: 'do-not-delete-vault'
  scope: vault
  properties: {
    level: 'CanNotDelete'
    notes: 'Connector credentials live here. Remove the lock before azd down.'
  }
}
