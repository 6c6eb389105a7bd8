import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";

import { App } from "./App";
import { AuthProvider } from "./auth/AuthContext";
import { completeSignIn, currentSession, isSignInCallback, type Session } from "./auth/session";
import { loadConfig } from "./config";
import "./styles.css";

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById("root")!);
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    root.render(
      <main className="fatal" role="alert">
        <h1>Fraud console</h1>
        <p>The console is not configured: {String(error)}</p>
      </main>,
    );
    return;
  }
  let session: Session | null = currentSession();
  let notice: string | null = null;
  const url = new URL(window.location.href);
  if (isSignInCallback(url)) {
    try {
      const result = await completeSignIn(config, url);
      session = result.session;
      window.history.replaceState(null, "", result.returnTo);
    } catch (error) {
      notice = error instanceof Error ? error.message : String(error);
      window.history.replaceState(null, "", "/");
    }
  }
  root.render(
    <StrictMode>
      <AuthProvider config={config} session={session} notice={notice}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </AuthProvider>
    </StrictMode>,
  );
}

void boot();
