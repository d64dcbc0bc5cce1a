// Seed 004 (Ocamba "List Billing", GET /v2/ocamba/usage), typed from the document's example response.

/** A statement's line; every example line prints every field. */
export interface LineItem {
  name: string;
  quantity: number;
  unit_price: number;
  price: number;
  discount_rate: number;
  discount: number;
  tax_rate: number;
  tax: number;
  amount: number;
  description: string;
  unit: number;
}

/** One billing period's statement. */
export interface Statement {
  id: string;
  company_id: string;
  app_id: string;
  items: LineItem[];
  /** Printed on some of the example's statements and not on others: optional, never null. */
  price?: number;
  /** As `price`. */
  amount?: number;
  currency_code: string;
  limit_status: string;
  /** Printed on some of the example's statements and not on others: optional, never null. */
  usage_percent?: number;
  start_time: string;
  end_time: string;
}

/** 200. */
export interface UsageList {
  total: number;
  items: Statement[];
}
