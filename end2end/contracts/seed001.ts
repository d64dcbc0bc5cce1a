// Seed 001 (MailLeader "Current License", GET /api/v1/billing/subscription), typed from the document's example response.

export interface Resource {
  id: string;
  codeName: string;
  resource: string;
  createdAt: string;
  updatedAt: string;
}

export interface ResourceUsage {
  id: string;
  resourceId: string;
  usage: number;
  userId: string;
  createdAt: string;
  updatedAt: string;
}

export interface LicenseResource {
  id: string;
  licenseId: string;
  resourceId: string;
  /** A number even when `limited` is false: the document's webhook resource has `limit: 0`. */
  limit: number;
  limited: boolean;
  createdAt: string;
  updatedAt: string;
  resource: Resource;
  /** The document prints null for a resource not used yet. */
  resourceUsage: ResourceUsage | null;
}

export interface License {
  id: string;
  name: string;
  /** The document prints null. */
  externalId: string | null;
  price: number;
  default: boolean;
  description: string;
  createdAt: string;
  updatedAt: string;
  resources: LicenseResource[];
}

/** 200. */
export interface Subscription {
  id: string;
  userId: string;
  licenseId: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  license: License;
}
