// The application roles callers are given in Entra ID (the `roles` claim of their token).
export const roles = ['Connectors.Manage', 'Scheduler', 'Deliveries.Read', 'Deliveries.Replay', 'Audit.Read'] as const;
export type Role = (typeof roles)[number];

export const roleDescriptions: Record<Role, string> = {
  'Connectors.Manage': 'Create, change, delete and test connectors; manage action URI definitions; recover and resync',
  Scheduler: 'Render action URIs and post appointment changes (the planning board and its backend)',
  'Deliveries.Read': 'Read the delivery log and the deep health check',
  'Deliveries.Replay': 'Replay deliveries, recover failed ones and resync connectors',
  'Audit.Read': 'Read the audit trail',
};
