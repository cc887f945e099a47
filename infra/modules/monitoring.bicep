// Log Analytics, workspace-based Application Insights (Entra-only ingestion), the alert rules and a workbook,
// built on the worker's OpenTelemetry metrics (customMetrics) and spans (dependencies): see docs/monitoring.md.
param namePrefix string
param location string
param tags object
@minLength(3)
@description('E-mail that receives the alerts.')
param alertEmail string
@description('Days the workspace keeps logs (the audit trail of secret reads and storage access included).')
param retentionInDays int
@description('Most GB ingested per day; 0: no cap.')
param dailyCapGb int

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: 'log-${namePrefix}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    workspaceCapping: { dailyQuotaGb: dailyCapGb > 0 ? dailyCapGb : -1 }
    features: { disableLocalAuth: true }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${namePrefix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('bocs${uniqueString(namePrefix)}', 12)
    enabled: true
    emailReceivers: [{ name: 'operators', emailAddress: alertEmail, useCommonAlertSchema: true }]
  }
}

// The alert queries (infra/alerts.json; parsed with the Kusto parser and run over sample rows by the tests).
// A rule with `split` fires per value of that column, so a notification names the connector (or queue) at fault.
var alerts = loadJsonContent('../alerts.json')

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for alert in alerts: {
    name: 'alert-${namePrefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: alert.name
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [appInsights.id]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Total'
            metricMeasureColumn: 'value'
            dimensions: contains(alert, 'split') ? [{ name: alert.split, operator: 'Include', values: ['*'] }] : []
            operator: 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      actions: { actionGroups: [actionGroup.id] }
      autoMitigate: true
    }
  }
]

// The workbook (infra/workbook.json): parameters, tiles, the connector table, time charts, recent failures.
var workbookContent = loadJsonContent('../workbook.json')

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'sync-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Appointment sync (${namePrefix})'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: string(workbookContent)
  }
}

output workspaceId string = workspace.id
output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output connectionString string = appInsights.properties.ConnectionString
output workbookId string = workbook.id
