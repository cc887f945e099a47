// Private endpoints for the storage services the app uses and for the vault, each with its private DNS zone
// linked to the virtual network, so the app reaches them by their usual names with public access off.
param namePrefix string
param location string
param tags object
param subnetId string
param vnetId string
param storageId string
param keyVaultId string

var targets = [
  { name: 'blob', group: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { name: 'queue', group: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { name: 'table', group: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { name: 'vault', group: 'vault', zone: 'privatelink.vaultcore.azure.net' }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for t in targets: {
    name: t.zone
    location: 'global'
    tags: tags
  }
]

resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (t, i) in targets: {
    parent: zones[i]
    name: 'link-${namePrefix}'
    location: 'global'
    tags: tags
    properties: { virtualNetwork: { id: vnetId }, registrationEnabled: false }
  }
]

resource endpoints 'Microsoft.Network/privateEndpoints@2025-07-01' = [
  for t in targets: {
    name: 'pe-${namePrefix}-${t.name}'
    location: location
    tags: tags
    properties: {
      subnet: { id: subnetId }
      privateLinkServiceConnections: [
        { name: t.name, properties: { privateLinkServiceId: t.group == 'vault' ? keyVaultId : storageId, groupIds: [t.group] } }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-07-01' = [
  for (t, i) in targets: {
    parent: endpoints[i]
    name: 'default'
    properties: { privateDnsZoneConfigs: [{ name: t.name, properties: { privateDnsZoneId: zones[i].id } }] }
  }
]
