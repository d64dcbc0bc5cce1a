// Seed 003 ("Get usage", GET /organizations/:organizationId/usage), typed from the document's schema, examples and error bodies.

/** 200. */
export interface OrganizationUsage {
  data: {
    usageSms: number;
    usageWhatsapp: number;
    usageEmail: number;
    usageSage: number;
  };
}

/** Every documented error (401, 403, 404, 422) has this body; `error` names the kind. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** 401, `error: "Unauthenticated"`. */
export type UnauthenticatedBody = ErrorBody;
/** 403, `error: "Forbidden"`. */
export type ForbiddenBody = ErrorBody;
/** 404, `error: "ResourceNotFound"`. */
export type NotFoundBody = ErrorBody;
/** 422, `error: "ValidationError"`. */
export type ValidationErrorBody = ErrorBody;
