// Proves the contracts match their seeds: each seed document's own example JSON (copied verbatim into examples/) must satisfy its interface.
// Assigned from the imported JSON, not written as literals, so the check is the same one the live bodies get in tests/contracts.spec.ts.
import type { DomainUsage } from './seed000';
import type { Subscription } from './seed001';
import type { BadRequestResponse, UnauthorizedResponse, UsageResponse } from './seed002';
import type { ForbiddenBody, NotFoundBody, OrganizationUsage, UnauthenticatedBody, ValidationErrorBody } from './seed003';
import type { UsageList } from './seed004';

import seed000DomainUsage from './examples/seed000-domain-usage-200.json';
import seed001Subscription from './examples/seed001-subscription-200.json';
import seed002Usage from './examples/seed002-usage-200.json';
import seed002Unauthorized from './examples/seed002-usage-401.json';
import seed002BadRequest from './examples/seed002-usage-400.json';
import seed003UsageFromSchema from './examples/seed003-usage-200-from-schema.json';
import seed003Usage from './examples/seed003-usage-200.json';
import seed003UnauthenticatedFromSchema from './examples/seed003-usage-401-from-schema.json';
import seed003Unauthenticated from './examples/seed003-usage-401.json';
import seed003ForbiddenFromSchema from './examples/seed003-usage-403-from-schema.json';
import seed003Forbidden from './examples/seed003-usage-403.json';
import seed003NotFoundFromSchema from './examples/seed003-usage-404-from-schema.json';
import seed003NotFound from './examples/seed003-usage-404.json';
import seed003ValidationFromSchema from './examples/seed003-usage-422-from-schema.json';
import seed003Validation from './examples/seed003-usage-422.json';
import seed004Usage from './examples/seed004-usage-200.json';

export const checked: [
  DomainUsage,
  Subscription,
  UsageResponse,
  UnauthorizedResponse,
  BadRequestResponse,
  OrganizationUsage,
  OrganizationUsage,
  UnauthenticatedBody,
  UnauthenticatedBody,
  ForbiddenBody,
  ForbiddenBody,
  NotFoundBody,
  NotFoundBody,
  ValidationErrorBody,
  ValidationErrorBody,
  UsageList,
] = [
  seed000DomainUsage,
  seed001Subscription,
  seed002Usage,
  seed002Unauthorized,
  seed002BadRequest,
  seed003UsageFromSchema,
  seed003Usage,
  seed003UnauthenticatedFromSchema,
  seed003Unauthenticated,
  seed003ForbiddenFromSchema,
  seed003Forbidden,
  seed003NotFoundFromSchema,
  seed003NotFound,
  seed003ValidationFromSchema,
  seed003Validation,
  seed004Usage,
];
