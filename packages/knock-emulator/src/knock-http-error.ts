/** One `errors[]` item of a 422 (shared/reference/knock-api.md §1.5, confirmed by [JAVA-IT]). */
export interface FieldError {
  field: string;
  message: string;
  type: string;
}

/** The common Knock error body `{code, message, status, type, errors?}` (§1.5). */
export interface KnockErrorBody {
  code: string;
  message: string;
  status: number;
  type: string;
  errors?: FieldError[];
}

/**
 * An error a route throws; the app turns it into the common Knock error body.
 * @example throw KnockHttpError.notFound()
 */
export class KnockHttpError extends Error {
  readonly status: number;
  readonly body: KnockErrorBody;
  readonly headers: Record<string, string>;

  constructor(body: KnockErrorBody, headers: Record<string, string> = {}) {
    super(body.message);
    this.name = 'KnockHttpError';
    this.status = body.status;
    this.body = body;
    this.headers = headers;
  }

  /** 404 exactly as the live API answers an unknown user ([JAVA-IT] `UsersResourceTestsIT.getUser`). */
  static notFound(): KnockHttpError {
    return new KnockHttpError({
      code: 'resource_missing',
      message: 'The resource you requested does not exist',
      status: 404,
      type: 'api_error',
    });
  }

  /** 422 `invalid_params` with field errors (§1.5; `type` value UNCONFIRMED). */
  static invalid(errors: FieldError[]): KnockHttpError {
    const first = errors[0];
    return new KnockHttpError({
      code: 'invalid_params',
      message: first ? `Invalid params: ${first.field} ${first.message}` : 'Invalid params',
      status: 422,
      type: 'invalid_request_error',
      errors,
    });
  }

  /** 400 for a body that is not JSON (§1.5 emulator notes, UNCONFIRMED). */
  static badJson(): KnockHttpError {
    return new KnockHttpError({
      code: 'invalid_json',
      message: 'The request body is not valid JSON',
      status: 400,
      type: 'invalid_request_error',
    });
  }
}

/** Shorthand for a `can't be blank` / `required` field error (the pairing [JAVA-IT] pins). */
export function required(field: string): FieldError {
  return { field, message: "can't be blank", type: 'required' };
}
