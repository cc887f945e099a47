using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'bocs-dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param alertEmail = readEnvironmentVariable('ALERT_EMAIL', '')
param nodeVersion = '22'
