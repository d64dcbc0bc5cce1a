// Entry of the seed 002 test page: mounts the seed's dashboard into #root and hands its helpers to the test.
import { createRoot } from 'react-dom/client';
import { getUsage, setSessionToken, UsageDashboard } from './seed002';

declare global {
  interface Window {
    /** The seed's helper, for tests to call with parameters through `page.evaluate`. */
    getUsage: typeof getUsage;
    setSessionToken: typeof setSessionToken;
  }
}

window.getUsage = getUsage;
window.setSessionToken = setSessionToken;

const root = document.getElementById('root');
if (!root) throw new Error('the page has no #root to mount the dashboard into');
createRoot(root).render(<UsageDashboard />);
