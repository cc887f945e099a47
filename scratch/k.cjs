require('@kusto/language-service-next/bridge.min.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
const K = Kusto.Language;
const t = new K.Symbols.TableSymbol.$ctor7('customMetrics', '(timestamp:datetime, name:string, value:real, valueSum:real, valueCount:int, valueMax:real, customDimensions:dynamic, itemCount:int)', null);
const db = new K.Symbols.DatabaseSymbol.$ctor2('app', null, [t]);
const globals = K.GlobalState.Default.WithDatabase(db);
for (const q of ['customMetrics | where name == "x" | summarize value = sum(valueSum) by connector = tostring(customDimensions["connector.id"])', 'customMetrics | where nam == 1 | summarize count() by bin(timestamp, 1h)', 'traces | take 1', 'customMetrics | summarize percentile(todouble(customDimensions.x), 95), arg_max(timestamp, *) by name | render timechart']) {
  const code = K.KustoCode.ParseAndAnalyze(q, globals);
  const diags = Bridge.toArray(code.GetDiagnostics());
  console.log(q.slice(0,40), diags.map(d => `${d.Severity}: ${d.Message} @${d.Start}`));
}
