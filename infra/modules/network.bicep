// The virtual network of the optional isolation (vnetEnabled): one subnet the app runs in (delegated to
// Microsoft.App/environments, as Flex Consumption requires; the subscription needs the Microsoft.App resource
// provider registered) and one for the private endpoints, each with a network security group. The groups keep
// Azure's default rules: inbound only from within the virtual network (and the load balancer), nothing from the
// internet; outbound open, which the app needs for the back offices and Entra.
param namePrefix string
param location string
param tags object

resource appNsg 'Microsoft.Network/networkSecurityGroups@2025-07-01' = {
  name: 'nsg-${namePrefix}-app'
  location: location
  tags: tags
  properties: { securityRules: [] }
}

resource privateEndpointsNsg 'Microsoft.Network/networkSecurityGroups@2025-07-01' = {
  name: 'nsg-${namePrefix}-private-endpoints'
  location: location
  tags: tags
  properties: { securityRules: [] }
}

resource vnet 'Microsoft.Network/virtualNetworks@2025-07-01' = {
  name: 'vnet-${namePrefix}'
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: ['10.0.0.0/16'] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.0.1.0/24'
          networkSecurityGroup: { id: appNsg.id }
          delegations: [{ name: 'flex', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.0.2.0/24'
          networkSecurityGroup: { id: privateEndpointsNsg.id }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output vnetId string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
