// Seed 000 (MailLeader "Domain Usage", GET /api/v1/billing/{domainId}/civil/usage), typed from the document's example response.

/** One mailbox account of the domain and the mails it sent. */
export interface AccountMails {
  id: string;
  account: string;
  relay: boolean;
  domainId: string;
  createdAt: string;
  updatedAt: string;
  /** The document prints it as a string ("1"), not a number. */
  totalMails: string;
}

/** One month of the domain's history, `month` as "MM/YYYY". */
export interface MonthHistory {
  month: string;
  total: number;
  cost: number;
}

/** 200. */
export interface DomainUsage {
  total: number;
  value: number;
  metrics: AccountMails[];
  history: MonthHistory[];
}
