import { NavLink, Outlet } from "react-router";

import { useAuth } from "../auth/AuthContext";
import { isRuleAdmin } from "../auth/session";

export function Layout() {
  const { session, analyst, signOut } = useAuth();
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span>Fraud console</span>
        </div>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Alert queue
          </NavLink>
          <NavLink to="/overview">Overview</NavLink>
          <NavLink to="/rules">Rules</NavLink>
          <NavLink to="/lists">Lists</NavLink>
        </nav>
        <div className="user">
          <span className="user-name">{session?.email}</span>
          <span className={`role role-${analyst ? "analyst" : "reader"}`}>
            {analyst ? "analyst" : "reader"}
          </span>
          {session && isRuleAdmin(session) && <span className="role role-analyst">rule-admin</span>}
          <button type="button" className="button-quiet" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}
