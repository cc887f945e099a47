using './main.bicep'

// Every parameter of main.bicep, from the azd environment (`azd env set NAME value`) or the shell, with the
// template's default when unset. Two have no default and stop the build, naming the variable: ALERT_EMAIL and
// AUTH_AUDIENCE (azd sets AZURE_ENV_NAME). docs/deployment.md says what each one does.
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME')
param environmentType = readEnvironmentVariable('ENVIRONMENT_TYPE', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', '')
param skipRegionCheck = bool(readEnvironmentVariable('SKIP_REGION_CHECK', 'false'))
param nodeVersion = readEnvironmentVariable('NODE_VERSION', '22')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL')
param authAudience = readEnvironmentVariable('AUTH_AUDIENCE')
param maximumInstanceCount = int(readEnvironmentVariable('MAXIMUM_INSTANCE_COUNT', '100'))
param instanceMemoryMB = int(readEnvironmentVariable('INSTANCE_MEMORY_MB', '2048'))
param alwaysReadyInstances = int(readEnvironmentVariable('ALWAYS_READY_INSTANCES', '0'))
param zoneRedundant = bool(readEnvironmentVariable('ZONE_REDUNDANT', 'false'))
param keyVaultNameSuffix = readEnvironmentVariable('KEY_VAULT_NAME_SUFFIX', '')
param keyVaultRecover = bool(readEnvironmentVariable('KEY_VAULT_RECOVER', 'false'))
param storageRedundancy = readEnvironmentVariable('STORAGE_REDUNDANCY', 'auto')
param vnetEnabled = bool(readEnvironmentVariable('VNET_ENABLED', 'false'))
param logRetentionDays = int(readEnvironmentVariable('LOG_RETENTION_DAYS', '90'))
param logDailyCapGb = int(readEnvironmentVariable('LOG_DAILY_CAP_GB', '0'))
param deployerDataAccess = bool(readEnvironmentVariable('DEPLOYER_DATA_ACCESS', 'false'))
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param deployerPrincipalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')
// A comma-separated list of object ids.
param producerPrincipalIds = split(readEnvironmentVariable('PRODUCER_PRINCIPAL_IDS', ''), ',')
param producerPrincipalType = readEnvironmentVariable('PRODUCER_PRINCIPAL_TYPE', 'ServicePrincipal')
