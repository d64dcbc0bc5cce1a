// Seed 002 ("Get Usage", GET /api/billing/usage), typed from the document's example response and its two error bodies.

export interface Period {
  start: string;
  end: string;
}

/** What the document prints per metric; its React `Metric` reads a subset of these. */
export interface Metric {
  name: string;
  unit: string;
  included: number;
  used: number;
  overage: number;
  percentage: number;
}

export interface EstimatedCost {
  base: number;
  overage: number;
  total: number;
  currency: string;
}

export interface Projection {
  projected: number;
  percentage: number;
}

export interface UsageData {
  period: Period;
  /** "Usage metrics keyed by metric ID". */
  metrics: Record<string, Metric>;
  estimatedCost: EstimatedCost;
  /** Keyed by metric ID, like `metrics`. */
  projectedUsage: Record<string, Projection>;
}

/** 200. */
export interface UsageResponse {
  success: boolean;
  data: UsageData;
}

/** Both documented errors share this envelope; they differ only in `code`. */
export interface ErrorResponse {
  success: boolean;
  error: {
    code: string;
    message: string;
  };
}

/** 401, `code: "UNAUTHORIZED"`. */
export type UnauthorizedResponse = ErrorResponse;
/** 400, `code: "BAD_REQUEST"`. */
export type BadRequestResponse = ErrorResponse;
