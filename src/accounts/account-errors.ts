// Errors of the operations platform: refusals by the permission check, and account self-service.
import { BadUserInputError, ErrorCode, GatewayError } from '../infra/errors.ts';
import type { Decision } from './permissions/check.ts';

/** A refusal by the permission check; the error-masking plugin adds the request id, as to every error. */
export class PermissionRefusedError extends GatewayError {
  readonly permission: string;

  constructor(decision: Extract<Decision, { ok: false }>) {
    const code = decision.code === 'UNAUTHENTICATED' ? ErrorCode.UNAUTHENTICATED : ErrorCode.FORBIDDEN;
    // Refused before execution, where the HTTP status is the only other signal: 401 or 403.
    const status = code === ErrorCode.UNAUTHENTICATED ? 401 : 403;
    super(decision.message, code, { permission: decision.permission, http: { status } });
    this.permission = decision.permission;
  }
}

/** Unknown, used, expired or superseded: the client is told no more than that. */
export class InvalidResetTokenError extends BadUserInputError {
  constructor() {
    super('the password reset link is invalid or has expired', 'token');
  }
}

export class WrongPasswordError extends BadUserInputError {
  constructor() {
    super('the current password is wrong', 'currentPassword');
  }
}
