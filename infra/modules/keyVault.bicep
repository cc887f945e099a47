// Key Vault for connector secrets: RBAC only, soft delete with purge protection (irreversible, as intended).
// A vault deleted with its resource group keeps its name for 90 days: deploy again with a name suffix, or
// recover it (createMode recover brings it back with its secrets).
param name string
param location string
param tags object
param recover bool
@description('false: reachable only through a private endpoint.')
param publicAccess bool

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    createMode: recover ? 'recover' : 'default'
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicAccess ? 'Enabled' : 'Disabled'
    networkAcls: { defaultAction: publicAccess ? 'Allow' : 'Deny', bypass: 'AzureServices' }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
