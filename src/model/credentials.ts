// Credential rules per back office (README "Credential rules"). Messages name the field and the rule,
// never the value.
import type { FieldError } from '../platform/errors';
import type { AuthType, BackOffice } from './connector';

const GUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)([a-z\d](?:[a-z\d-]{0,61}[a-z\d])?\.)+[a-z]{2,63}$/i;

/** DOMAIN\user, user@domain or user: no empty part, no second backslash. */
const WINDOWS_LOGIN = /^(?:[^\\@\s]+\\[^\\@\s]+|[^\\@\s]+@[^\\@\s]+|[^\\@\s]+)$/;

export const isTenantId = (login: string): boolean => GUID.test(login) || DOMAIN.test(login);

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

export class CredentialFormatError extends Error {
  override readonly name = 'CredentialFormatError';
}

/** `client_id=<guid>&client_secret=<secret>`, URL-encoded form, keys in any order, both required, once each. */
export function parseOAuthPassword(password: string): OAuthClientCredentials {
  const rule = 'must be client_id=<client id>&client_secret=<client secret> (URL-encoded form)';
  const values = new Map<string, string>();
  for (const pair of password.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CredentialFormatError(rule);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' ')).trim().toLowerCase();
      value = decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      throw new CredentialFormatError(`${rule}; it has a broken %-escape`);
    }
    if (key !== 'client_id' && key !== 'client_secret')
      throw new CredentialFormatError(`${rule}; only client_id and client_secret are allowed`);
    if (values.has(key)) throw new CredentialFormatError(`${rule}; ${key} appears twice`);
    values.set(key, value);
  }
  const clientId = values.get('client_id')?.trim();
  const clientSecret = values.get('client_secret');
  if (!clientId) throw new CredentialFormatError(`${rule}; client_id is missing`);
  if (!clientSecret) throw new CredentialFormatError(`${rule}; client_secret is missing`);
  if (!GUID.test(clientId)) throw new CredentialFormatError(`${rule}; client_id must be a GUID (the application id)`);
  return { clientId, clientSecret };
}

export interface CredentialFacts {
  backOffice: BackOffice;
  authType?: AuthType;
  login: string | null;
  /** The new password, when one is being set. */
  password: string | null;
  /** Whether a password will be stored after this save (new or kept). */
  hasPassword: boolean;
}

const allowed: Record<BackOffice, AuthType[]> = {
  'bc-online': ['oauth2-client-credentials', 'managed-identity'],
  'bc-onprem': ['basic', 'ntlm', 'oauth2-client-credentials', 'managed-identity'],
  nav: ['basic', 'ntlm', 'oauth2-client-credentials', 'managed-identity'],
  webhook: ['none', 'basic', 'signing-secret'],
};

function derive(backOffice: BackOffice, hasLogin: boolean, hasPassword: boolean): AuthType {
  if (backOffice === 'webhook') return hasLogin && hasPassword ? 'basic' : hasPassword ? 'signing-secret' : 'none';
  if (!hasLogin && !hasPassword) return 'managed-identity';
  return backOffice === 'bc-online' ? 'oauth2-client-credentials' : 'basic';
}

/** The effective auth type, or the field errors that make the credentials unusable. */
export function resolveAuthType(facts: CredentialFacts): { authType: AuthType; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const hasLogin = Boolean(facts.login);
  const authType = facts.authType ?? derive(facts.backOffice, hasLogin, facts.hasPassword);
  if (!allowed[facts.backOffice].includes(authType)) {
    errors.push({
      path: 'authType',
      code: 'auth-type-not-allowed',
      message: `${authType} is not allowed for ${facts.backOffice}; use one of ${allowed[facts.backOffice].join(', ')}`,
    });
    return { authType, errors };
  }
  const need = (path: 'login' | 'password', present: boolean, message: string) => {
    if (!present) errors.push({ path, code: 'required', message });
  };
  const mustBeBlank = (path: 'login' | 'password', present: boolean, message: string) => {
    if (present) errors.push({ path, code: 'must-be-blank', message });
  };
  switch (authType) {
    case 'managed-identity':
    case 'none':
      mustBeBlank('login', hasLogin, `must be blank for ${authType}`);
      mustBeBlank('password', facts.hasPassword, `must be blank for ${authType}`);
      break;
    case 'basic':
      need(
        'login',
        hasLogin,
        'is required for basic authentication (a user name); leave login and password both blank for the service identity',
      );
      need(
        'password',
        facts.hasPassword,
        'is required for basic authentication (a password or web service access key); leave login and password both blank for the service identity',
      );
      break;
    case 'ntlm':
      need('login', hasLogin, 'is required for Windows authentication: DOMAIN\\user, or user@domain');
      need('password', facts.hasPassword, "is required for Windows authentication: the Windows user's password");
      if (hasLogin && !WINDOWS_LOGIN.test(facts.login!))
        errors.push({
          path: 'login',
          code: 'windows-login',
          message: 'must be a Windows login: DOMAIN\\user, user@domain, or a local user name',
        });
      break;
    case 'signing-secret':
      mustBeBlank(
        'login',
        hasLogin,
        'must be blank for a signing secret (login and password together mean basic authentication)',
      );
      need('password', facts.hasPassword, 'is required: it is the signing secret');
      break;
    case 'oauth2-client-credentials':
      need('login', hasLogin, 'is required: the Microsoft Entra tenant id (a GUID or verified domain)');
      need('password', facts.hasPassword, 'is required: client_id=<client id>&client_secret=<client secret>');
      if (hasLogin && !isTenantId(facts.login!)) {
        errors.push({
          path: 'login',
          code: 'tenant-id',
          message: 'must be a Microsoft Entra tenant id: a GUID or a verified domain such as contoso.onmicrosoft.com',
        });
      }
      if (facts.password) {
        try {
          parseOAuthPassword(facts.password);
        } catch (error) {
          errors.push({ path: 'password', code: 'oauth-password-format', message: (error as Error).message });
        }
      }
      break;
  }
  return { authType, errors };
}
