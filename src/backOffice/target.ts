// What the adapters need of a connector: where, how to authenticate, and the secret already read.
import type { ApiType, AuthType, BackOffice } from '../model/connector';
import { parseOAuthPassword } from '../model/credentials';

export interface BackOfficeTarget {
  /** The connector's id: part of every body id, and the key of per-connector state. */
  id: string;
  backOffice: BackOffice;
  apiType: ApiType;
  authType: AuthType;
  webServiceUri: string;
  login: string | null;
  /** The password (or access key, client credentials, signing secret); null when there is none. */
  secret: string | null;
}

/**
 * Who Business Central counts a request against: the service principal (tenant + client id) for OAuth, the
 * user on that server for Basic, the app's managed identity, or, for a webhook, the host it posts to. Every
 * connector sharing a principal shares its request budget.
 */
export function principalOf(target: BackOfficeTarget, managedIdentityClientId?: string): string {
  const host = new URL(target.webServiceUri).host.toLowerCase();
  switch (target.authType) {
    case 'oauth2-client-credentials': {
      let clientId = '?';
      try {
        clientId = target.secret ? parseOAuthPassword(target.secret).clientId.toLowerCase() : '?';
      } catch {
        // an unparseable password fails before any request; it needs no budget of its own
      }
      return `oauth:${(target.login ?? '').toLowerCase()}:${clientId}`;
    }
    case 'managed-identity':
      return `managed-identity:${managedIdentityClientId?.toLowerCase() ?? 'system-assigned'}`;
    case 'basic':
    case 'ntlm':
      return `user:${host}:${(target.login ?? '').toLowerCase()}`;
    default:
      return `host:${host}`;
  }
}
