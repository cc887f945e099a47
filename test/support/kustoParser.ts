// The real Kusto parser (@kusto/language-service-next) with the Application Insights tables the service's queries
// read, so every alert and workbook query is checked as Azure Monitor would check it: names, columns, functions
// and types, not only syntax. The table schemas are those of the classic Application Insights tables (the names a
// query scoped to an Application Insights resource uses; docs: "Azure Monitor Logs reference", App* tables).
import { createRequire } from 'node:module';

const common =
  'timestamp:datetime, itemType:string, itemId:string, itemCount:int, customDimensions:dynamic, operation_Name:string, operation_Id:string, operation_ParentId:string, operation_SyntheticSource:string, session_Id:string, user_Id:string, user_AuthenticatedId:string, user_AccountId:string, application_Version:string, client_Type:string, client_Model:string, client_OS:string, client_IP:string, client_City:string, client_StateOrProvince:string, client_CountryOrRegion:string, client_Browser:string, cloud_RoleName:string, cloud_RoleInstance:string, appId:string, appName:string, iKey:string, sdkVersion:string';

export const appInsightsTables: Record<string, string> = {
  customMetrics: `name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real, valueStdDev:real, ${common}`,
  dependencies: `id:string, target:string, type:string, name:string, data:string, success:bool, resultCode:string, duration:real, performanceBucket:string, customMeasurements:dynamic, ${common}`,
  requests: `id:string, source:string, name:string, url:string, success:bool, resultCode:string, duration:real, performanceBucket:string, customMeasurements:dynamic, ${common}`,
  traces: `message:string, severityLevel:int, customMeasurements:dynamic, ${common}`,
  exceptions: `problemId:string, handledAt:string, type:string, message:string, assembly:string, method:string, outerType:string, outerMessage:string, outerAssembly:string, outerMethod:string, innermostType:string, innermostMessage:string, innermostAssembly:string, innermostMethod:string, severityLevel:int, details:dynamic, customMeasurements:dynamic, ${common}`,
};

type Diagnostic = { Severity: string; Message: string; Start: number };
// biome-ignore lint/suspicious/noExplicitAny: the bridge's global, typed loosely here
type KustoGlobal = any;

let globals: unknown;

function kusto(): KustoGlobal {
  const g = globalThis as { Kusto?: KustoGlobal };
  if (!g.Kusto) {
    const load = createRequire(__filename);
    load('@kusto/language-service-next/bridge.min.js');
    load('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  }
  return g.Kusto;
}

/** The errors the parser finds in a query over the Application Insights tables ([] when there are none). */
export function kqlErrors(query: string): string[] {
  const K = kusto().Language;
  globals ??= K.GlobalState.Default.WithDatabase(
    new K.Symbols.DatabaseSymbol.$ctor2(
      'applicationinsights',
      null,
      Object.entries(appInsightsTables).map(
        ([name, schema]) => new K.Symbols.TableSymbol.$ctor7(name, `(${schema})`, null),
      ),
    ),
  );
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  const bridge = (globalThis as unknown as { Bridge: { toArray(list: unknown): Diagnostic[] } }).Bridge;
  return bridge
    .toArray(code.GetDiagnostics())
    .filter((d) => d.Severity === 'Error')
    .map((d) => `${d.Message} (at ${d.Start}: "${query.slice(d.Start, d.Start + 30)}")`);
}
