import { useState } from "react";

import { useAuth } from "../auth/AuthContext";
import { ErrorBanner } from "../components/ErrorBanner";

export function SignInPage() {
  const { signIn, notice } = useAuth();
  const [busy, setBusy] = useState(false);
  return (
    <main className="sign-in">
      <div className="sign-in-card">
        <img src="/favicon.svg" alt="" width={40} height={40} />
        <h1>Fraud console</h1>
        <p>Alerts from the fraud-detection stream, their reasons, and your verdicts.</p>
        <ErrorBanner message={notice} />
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void signIn().catch(() => setBusy(false));
          }}
        >
          Sign in
        </button>
      </div>
    </main>
  );
}
