// Log Analytics, workspace-based Application Insights (Entra-only ingestion), the alert rules and a workbook
// built on the sync's structured log lines ("delivery.attempt {...}", "delivery.outcome {...}").
param namePrefix string
param location string
param tags object
@minLength(3)
@description('E-mail that receives the alerts.')
param alertEmail string

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: 'log-${namePrefix}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
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

// The alert queries (infra/alerts.json, tested against sample rows): each sums itemCount, because Application
// Insights samples traces (host.json) and a sampled row stands for itemCount rows.
var alerts = loadJsonContent('../alerts.json')

// The sync writes "<event> {json}" lines; this prefix turns one into columns.
var parseLine = '| extend d = parse_json(substring(message, indexof(message, "{")))'

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

var queries = {
  outcomes: 'traces | where message startswith "delivery.outcome" ${parseLine} | summarize deliveries = sum(itemCount) by status = tostring(d.status), bin(timestamp, 15m) | render timechart'
  byConnector: 'traces | where message startswith "delivery.outcome" ${parseLine} | summarize deliveries = sum(itemCount) by connector = tostring(d.connectorId), status = tostring(d.status) | order by deliveries desc'
  latency: 'traces | where message startswith "delivery.attempt" ${parseLine} | summarize p50 = percentile(todouble(d.durationMs), 50), p95 = percentile(todouble(d.durationMs), 95), p99 = percentile(todouble(d.durationMs), 99) by backOffice = tostring(d.backOffice), bin(timestamp, 15m) | render timechart'
  errorCodes: 'traces | where message startswith "delivery.attempt" ${parseLine} | where tostring(d.outcome) in ("transient", "permanent") | summarize attempts = sum(itemCount) by code = tostring(d.code) | top 10 by attempts'
}

var workbookContent = {
  version: 'Notebook/1.0'
  items: [
    { type: 1, content: { json: '## Appointment sync\nDeliveries by outcome and connector, latency, and the most frequent error codes (from the structured log lines of the sync).' } }
    { type: 3, content: { version: 'KqlItem/1.0', query: queries.outcomes, size: 0, title: 'Deliveries by outcome', queryType: 0, resourceType: 'microsoft.insights/components' } }
    { type: 3, content: { version: 'KqlItem/1.0', query: queries.byConnector, size: 0, title: 'Deliveries by connector and outcome', queryType: 0, resourceType: 'microsoft.insights/components' } }
    { type: 3, content: { version: 'KqlItem/1.0', query: queries.latency, size: 0, title: 'Back-office latency percentiles (ms)', queryType: 0, resourceType: 'microsoft.insights/components' } }
    { type: 3, content: { version: 'KqlItem/1.0', query: queries.errorCodes, size: 0, title: 'Top error codes', queryType: 0, resourceType: 'microsoft.insights/components' } }
  ]
}

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
