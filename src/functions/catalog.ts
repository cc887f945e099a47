// Every function module of the app, in one list: the manifest generator, the OpenAPI document and the 405
// answers read it. Adding a module means adding it here; adding a route to a module means nothing more.
import * as actionUris from './actionUris';
import * as appointments from './appointments';
import * as audit from './audit';
import * as connectors from './connectors';
import * as deliveries from './deliveries';
import * as health from './health';
import * as recoveries from './recoveries';
import type { FunctionModule } from './route';
import * as system from './system';
import * as triggers from './triggers';

/** Module name (the file under src/functions) -> its declarations. */
export const catalog: Record<string, FunctionModule> = {
  system,
  connectors,
  actionUris,
  appointments,
  deliveries,
  health,
  recoveries,
  audit,
  triggers,
};
