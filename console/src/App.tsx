import { Route, Routes } from "react-router";

import { useAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { AlertPage } from "./pages/AlertPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OverviewPage } from "./pages/OverviewPage";
import { ListsPage } from "./pages/ListsPage";
import { QueuePage } from "./pages/QueuePage";
import { RulesPage } from "./pages/RulesPage";
import { SignInPage } from "./pages/SignInPage";

export function App() {
  const { session } = useAuth();
  if (!session) return <SignInPage />;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<QueuePage />} />
        <Route path="alerts/:alertId" element={<AlertPage />} />
        <Route path="overview" element={<OverviewPage />} />
        <Route path="rules" element={<RulesPage />} />
        <Route path="lists" element={<ListsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
