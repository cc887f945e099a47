// The Authorization header a target needs, or undefined when it authenticates otherwise (none, a signature).
import { type OAuthClientCredentials, parseOAuthPassword } from '../model/credentials';
import { StageError } from './stageError';
import type { BackOfficeTarget } from './target';
import type { TokenService } from './tokens';

const missing = (message: string) =>
  new StageError('credentials', { kind: 'permanent', code: 'config.secret-missing', message });

export async function authorizationFor(
  target: BackOfficeTarget,
  tokens: TokenService,
  forceRefresh: boolean,
): Promise<string | undefined> {
  switch (target.authType) {
    case 'none':
    case 'signing-secret':
      return undefined;
    case 'basic':
      if (!target.login || !target.secret) throw missing('basic authentication needs a login and a password');
      return `Basic ${Buffer.from(`${target.login}:${target.secret}`, 'utf8').toString('base64')}`;
    case 'oauth2-client-credentials': {
      if (!target.login || !target.secret) throw missing('client credentials need a tenant id and a password');
      let credentials: OAuthClientCredentials;
      try {
        credentials = parseOAuthPassword(target.secret);
      } catch (error) {
        throw new StageError('credentials', {
          kind: 'permanent',
          code: 'config.credentials-unparseable',
          message: (error as Error).message,
        });
      }
      return `Bearer ${await tokens.clientCredentials(target.login, credentials.clientId, credentials.clientSecret, forceRefresh)}`;
    }
    case 'managed-identity':
      return `Bearer ${await tokens.managedIdentity(forceRefresh)}`;
    case 'ntlm':
      // NTLM authenticates a connection in three messages, not a request with one header.
      throw new Error('Windows authentication is a handshake: the back-office client runs it');
  }
}
