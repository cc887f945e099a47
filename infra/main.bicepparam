using './main.bicep'

// azd passes its environment's values; `azd env set ALERT_EMAIL ...` and `azd env set AUTH_AUDIENCE ...` are
// required (the build stops here, naming the variable, when one is missing).
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
param authAudience = readEnvironmentVariable('AUTH_AUDIENCE')
param nodeVersion = readEnvironmentVariable('NODE_VERSION', '22')
param keyVaultNameSuffix = readEnvironmentVariable('KEY_VAULT_NAME_SUFFIX', '')
param keyVaultRecover = bool(readEnvironmentVariable('KEY_VAULT_RECOVER', 'false'))
param lockResources = bool(readEnvironmentVariable('LOCK_RESOURCES', 'true'))
param vnetEnabled = bool(readEnvironmentVariable('VNET_ENABLED', 'false'))
param maximumInstanceCount = int(readEnvironmentVariable('MAXIMUM_INSTANCE_COUNT', '100'))
