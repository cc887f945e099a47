// The rules a connector must keep that span several fields: API type, address, credentials, expiry.
import { checkWebServiceUri } from '../backOffice/uriGuard';
import type { ApiType, AuthType, ConnectorInput, StoredConnector } from '../model/connector';
import { resolveAuthType } from '../model/credentials';
import { type FieldError, ValidationError } from '../platform/errors';

export interface CheckedConnector {
  apiType: ApiType;
  authType: AuthType;
  login: string | null;
}

const defaultApiType = (backOffice: ConnectorInput['backOffice']): ApiType => (backOffice === 'nav' ? 'soap' : 'rest');

/** Checks everything that needs more than one field; throws one ValidationError naming every problem. */
export function checkConnector(
  input: ConnectorInput,
  password: { newPassword: string | null; hasPassword: boolean },
  options: { allowLoopback: boolean },
): CheckedConnector {
  const errors: FieldError[] = [];
  const apiType = input.apiType ?? defaultApiType(input.backOffice);
  if (input.backOffice === 'webhook' && apiType !== 'rest')
    errors.push({ path: 'apiType', code: 'webhook-rest-only', message: 'a webhook connector is rest only' });
  const uriProblem = checkWebServiceUri(input.webServiceUri, input.backOffice, options);
  if (uriProblem) errors.push({ path: 'webServiceUri', code: uriProblem.rule, message: uriProblem.message });
  const login = input.login?.trim() ? input.login : null;
  const { authType, errors: credentialErrors } = resolveAuthType({
    backOffice: input.backOffice,
    authType: input.authType,
    login,
    password: password.newPassword,
    hasPassword: password.hasPassword,
  });
  errors.push(...credentialErrors);
  if (input.secretExpiresAt && !password.hasPassword)
    errors.push({
      path: 'secretExpiresAt',
      code: 'must-be-blank',
      message: 'is the expiry of the stored secret: leave it out when the connector has no password',
    });
  if (errors.length) throw new ValidationError('The connector is not valid.', errors);
  return { apiType, authType, login };
}

/** The record's fields that come from the input as checked (what create and replace both write). */
export function fieldsOf(
  input: ConnectorInput,
  checked: CheckedConnector,
): Omit<
  StoredConnector,
  'id' | 'hasPassword' | 'secretExpiresAt' | 'createdAt' | 'updatedAt' | 'secretName' | 'secretVersion' | 'revision'
> {
  return {
    name: input.name,
    description: input.description,
    sourceApp: input.sourceApp,
    sourceType: input.sourceType,
    backOffice: input.backOffice,
    apiType: checked.apiType,
    sendAppointments: input.sendAppointments,
    databaseActions: input.databaseActions,
    webServiceUri: input.webServiceUri,
    authType: checked.authType,
    login: checked.login,
  };
}
