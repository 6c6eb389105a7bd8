import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

import { ApiClient } from "../api/client";
import type { ConsoleConfig } from "../config";
import {
  currentSession,
  forgetSession,
  isAnalyst,
  signOut as endSession,
  startSignIn,
  type Session,
} from "./session";

interface Auth {
  config: ConsoleConfig;
  session: Session | null;
  analyst: boolean;
  api: ApiClient;
  notice: string | null;
  signIn: (returnTo?: string) => Promise<void>;
  signOut: () => void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider(props: {
  config: ConsoleConfig;
  session: Session | null;
  notice: string | null;
  children: ReactNode;
}) {
  const { config } = props;
  const [session, setSession] = useState<Session | null>(props.session);
  const [notice, setNotice] = useState<string | null>(props.notice);

  const signOut = useCallback(() => {
    endSession(config);
    setNotice(null);
    setSession(null);
  }, [config]);

  const api = useMemo(
    () =>
      new ApiClient(
        config.apiBaseUrl,
        // ID token: it names the console's client in `aud` and carries the groups.
        () => currentSession()?.idToken ?? null,
        () => {
          forgetSession();
          setNotice("Your session has expired or was refused: sign in again.");
          setSession(null);
        },
      ),
    [config],
  );

  const value = useMemo<Auth>(
    () => ({
      config,
      session,
      analyst: session !== null && isAnalyst(session),
      api,
      notice,
      signIn: (returnTo?: string) =>
        startSignIn(config, returnTo ?? window.location.pathname + window.location.search),
      signOut,
    }),
    [api, config, notice, session, signOut],
  );
  return <AuthContext.Provider value={value}>{props.children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}
