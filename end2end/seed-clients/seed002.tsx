// Seed 002's own TypeScript and React examples ("Get Usage"), transcribed to run in a browser against quotaboard.
//
// VERBATIM from the seed, character for character but for a leading `export`: `UsageParams`,
// `getUsage`, `Metric`, `UsageBar` and `UsageDashboard`.
// GLUE, which the seed leaves undefined: `sessionToken` / `getToken()` and their setter, and the
// `export`s. The seed's example calls (`const currentUsage = await getUsage()` …) are left out:
// at module level they would run before a token is set.
import { useEffect, useState } from 'react';

// --- glue -----------------------------------------------------------------------------------

declare global {
  interface Window {
    /** The API key the page is served with, set before this bundle runs. */
    __QB_TOKEN?: string;
  }
}

// A module-level `let`, so the seed's `sessionToken` and `getToken()` read one value that a test
// can swap (to present a wrong key) through `setSessionToken`.
let sessionToken: string = window.__QB_TOKEN ?? '';

export function setSessionToken(token: string): void {
  sessionToken = token;
}

function getToken(): string {
  return sessionToken;
}

// --- verbatim: "TypeScript Example" -----------------------------------------------------------

export interface UsageParams {
  startDate?: string;
  endDate?: string;
  metrics?: string[];
}

export async function getUsage(params?: UsageParams) {
  const query = new URLSearchParams();
  if (params?.startDate) query.set('startDate', params.startDate);
  if (params?.endDate) query.set('endDate', params.endDate);
  if (params?.metrics) query.set('metrics', params.metrics.join(','));

  const response = await fetch(`/api/billing/usage?${query}`, {
    headers: { 'Authorization': `Bearer ${sessionToken}` }
  });

  return response.json();
}

// --- verbatim: "React Component Example" ------------------------------------------------------

export interface Metric {
  name: string;
  unit: string;
  included: number;
  used: number;
  percentage: number;
}

export function UsageBar({ metric }: { metric: Metric }) {
  const color = metric.percentage > 90 ? 'red' : 
                metric.percentage > 75 ? 'yellow' : 'green';
  
  return (
    <div className="usage-metric">
      <div className="flex justify-between">
        <span>{metric.name}</span>
        <span>{metric.used.toLocaleString()} / {metric.included.toLocaleString()} {metric.unit}</span>
      </div>
      <div className="progress-bar">
        <div 
          className={`progress-fill bg-${color}-500`}
          style={{ width: `${Math.min(metric.percentage, 100)}%` }}
        />
      </div>
      <span className="text-sm text-gray-500">
        {metric.percentage.toFixed(1)}% used
      </span>
    </div>
  );
}

export function UsageDashboard() {
  const [usage, setUsage] = useState<any>(null);
  
  useEffect(() => {
    fetch('/api/billing/usage', {
      headers: { 'Authorization': `Bearer ${getToken()}` }
    })
      .then(res => res.json())
      .then(({ data }) => setUsage(data));
  }, []);

  if (!usage) return <div>Loading...</div>;

  return (
    <div className="usage-dashboard">
      <h2>Usage for {usage.period.start} - {usage.period.end}</h2>
      
      {Object.entries(usage.metrics).map(([key, metric]) => (
        <UsageBar key={key} metric={metric as Metric} />
      ))}
      
      <div className="estimated-cost">
        Estimated cost: ${usage.estimatedCost.total.toFixed(2)}
        {usage.estimatedCost.overage > 0 && (
          <span className="text-red-500">
            (includes ${usage.estimatedCost.overage.toFixed(2)} overage)
          </span>
        )}
      </div>
    </div>
  );
}
