import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import type { Change, ListEntry, ListKind, ListSummary } from "../api/types";
import { LIST_KINDS, NAME_PATTERN } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { ErrorBanner } from "../components/ErrorBanner";
import { formatTime, utcFromInput } from "../format";
import { actorText } from "../rules";
import { changeOutcome, MAX_UPLOAD_BODY_BYTES, uploadBodyBytes } from "../lists";

const PAGE_SIZE = 50;
const SEARCH_DELAY_MS = 300;

export function ListsPage() {
  const { api, analyst } = useAuth();
  const [lists, setLists] = useState<ListSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const answer = await api.getLists();
      setLists(answer.items);
      setError(null);
      setSelected((shown) => shown ?? answer.items[0]?.name ?? null);
    } catch (e) {
      setError(`Could not load the lists: ${(e as Error).message}`);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const list = lists?.find((l) => l.name === selected) ?? null;

  return (
    <section aria-labelledby="lists-title">
      <div className="page-head">
        <h1 id="lists-title">Lists</h1>
      </div>
      <ErrorBanner message={error} />
      <div className="list-grid">
        <section className="panel" aria-labelledby="all-lists-title">
          <h2 id="all-lists-title">All lists</h2>
          {!lists ? (
            !error && <p className="muted">Loading the lists…</p>
          ) : lists.length === 0 ? (
            <p className="empty">No lists yet.</p>
          ) : (
            <table className="alerts rules">
              <caption className="visually-hidden">All lists</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Entries
                  </th>
                  <th scope="col">Suppressing</th>
                </tr>
              </thead>
              <tbody>
                {lists.map((l) => (
                  <tr key={l.name} aria-selected={l.name === selected}>
                    <th scope="row">
                      <button
                        type="button"
                        className="button-quiet mono"
                        aria-pressed={l.name === selected}
                        onClick={() => setSelected(l.name)}
                      >
                        {l.name}
                      </button>
                    </th>
                    <td className="mono">{l.kind}</td>
                    <td className="num">{l.entries.toLocaleString("en-GB")}</td>
                    <td>
                      {l.suppressing ? (
                        <span
                          className="badge severity-medium"
                          title="an active suppress rule reads it: additions need approval"
                        >
                          suppressing
                        </span>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <NewList
          canEdit={analyst}
          onCreated={(name) => {
            setSelected(name);
            void load();
          }}
        />
      </div>
      {list && <ListDetail key={list.name} list={list} canEdit={analyst} onChanged={load} />}
    </section>
  );
}

function NewList(props: { canEdit: boolean; onCreated: (name: string) => void }) {
  const { api } = useAuth();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<ListKind>("card_id");
  const [error, setError] = useState<string | null>(null);
  const valid = NAME_PATTERN.test(name);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      await api.createList(name, kind);
      setName("");
      props.onCreated(name);
    } catch (e) {
      setError(`The list was not created: ${(e as Error).message}`);
    }
  }

  return (
    <section className="panel" aria-labelledby="new-list-title">
      <h2 id="new-list-title">New list</h2>
      <form className="form-row" aria-label="New list" onSubmit={create}>
        <label>
          List name
          <input
            className="mono"
            value={name}
            disabled={!props.canEdit}
            onChange={(e) => setName(e.target.value.trim())}
          />
        </label>
        <label>
          Kind
          <select
            value={kind}
            disabled={!props.canEdit}
            onChange={(e) => setKind(e.target.value as ListKind)}
          >
            {LIST_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!props.canEdit || !valid}>
          Create list
        </button>
      </form>
      <ErrorBanner message={error} />
      {!props.canEdit && (
        <p className="note-readonly">Only members of the analysts group can edit lists.</p>
      )}
    </section>
  );
}

function ListDetail(props: { list: ListSummary; canEdit: boolean; onChanged: () => void }) {
  const { api } = useAuth();
  const { list, canEdit } = props;
  const [query, setQuery] = useState("");
  const [entries, setEntries] = useState<ListEntry[] | null>(null);
  const [total, setTotal] = useState(0);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  const asked = useRef(0);

  useEffect(() => {
    const mine = ++asked.current;
    const timer = window.setTimeout(() => {
      api
        .listEntries(list.name, query.trim(), null, PAGE_SIZE)
        .then((page) => {
          if (mine !== asked.current) return;
          setEntries(page.items);
          setCursor(page.cursor);
          setTotal(page.total);
          setError(null);
        })
        .catch((e: Error) => {
          if (mine === asked.current) setError(`Could not load the entries: ${e.message}`);
        });
    }, SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [api, list.name, query, refresh]);

  async function loadMore() {
    if (!cursor) return;
    const mine = asked.current;
    try {
      const page = await api.listEntries(list.name, query.trim(), cursor, PAGE_SIZE);
      if (mine !== asked.current) return;
      setEntries((shown) => [...(shown ?? []), ...page.items]);
      setCursor(page.cursor);
    } catch (e) {
      setError(`Could not load more entries: ${(e as Error).message}`);
    }
  }

  function changed(change: Change) {
    setMessage(changeOutcome(change));
    setRefresh((n) => n + 1);
    props.onChanged();
  }

  async function remove(value: string, reason: string) {
    try {
      changed(await api.removeEntries(list.name, [value], reason));
    } catch (e) {
      setError(`${value} was not removed: ${(e as Error).message}`);
    }
  }

  return (
    <section className="panel" aria-labelledby="list-title">
      <div className="panel-head">
        <h2 id="list-title">
          List <span className="mono">{list.name}</span>
        </h2>
        <span className="muted">
          {list.kind} · {list.entries.toLocaleString("en-GB")} entries · version {list.version}
        </span>
      </div>
      {list.suppressing && (
        <p className="muted">
          An active suppress rule reads this list: entries added wait for a rule-admin's approval.
        </p>
      )}
      {message && (
        <p className="success" role="status">
          {message}
        </p>
      )}
      <div className="list-grid">
        <AddEntry list={list} canEdit={canEdit} onChange={changed} />
        <UploadEntries list={list} canEdit={canEdit} onChange={changed} />
      </div>
      <div className="form-row">
        <label>
          Search (prefix of the value)
          <input
            type="search"
            className="mono"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        <span className="muted" aria-live="polite">
          {entries === null ? "" : `${total.toLocaleString("en-GB")} matching`}
        </span>
      </div>
      <ErrorBanner message={error} />
      {entries === null ? (
        !error && <p className="muted">Loading the entries…</p>
      ) : entries.length === 0 ? (
        <p className="empty">No entries match.</p>
      ) : (
        <EntryTable entries={entries} canEdit={canEdit} onRemove={remove} />
      )}
      {cursor && (
        <div className="load-more">
          <button type="button" onClick={() => void loadMore()}>
            Load more
          </button>
        </div>
      )}
    </section>
  );
}

function EntryTable(props: {
  entries: ListEntry[];
  canEdit: boolean;
  onRemove: (value: string, reason: string) => Promise<void>;
}) {
  const { session } = useAuth();
  const [removing, setRemoving] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  return (
    <table className="alerts rules entries">
      <caption className="visually-hidden">List entries</caption>
      <thead>
        <tr>
          <th scope="col">Value</th>
          <th scope="col">Reason</th>
          <th scope="col">Added by</th>
          <th scope="col">Expires</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((entry) => (
          <tr key={entry.value}>
            <th scope="row" className="mono">
              {entry.value}
            </th>
            <td>{entry.reason}</td>
            <td className="mono">{actorText(entry.added_by, session)}</td>
            <td className="nowrap">{entry.expires_at ? formatTime(entry.expires_at) : "never"}</td>
            <td className="nowrap">
              {removing === entry.value ? (
                <form
                  className="form-row"
                  aria-label={`Remove ${entry.value}`}
                  onSubmit={(e) => {
                    e.preventDefault();
                    void props.onRemove(entry.value, reason.trim()).then(() => {
                      setRemoving(null);
                      setReason("");
                    });
                  }}
                >
                  <input
                    aria-label="Reason for the removal"
                    placeholder="reason"
                    value={reason}
                    maxLength={500}
                    onChange={(e) => setReason(e.target.value)}
                  />
                  <button type="submit" className="button-fraud" disabled={!reason.trim()}>
                    Confirm removal
                  </button>
                  <button type="button" className="button-quiet" onClick={() => setRemoving(null)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <button
                  type="button"
                  className="button-quiet"
                  disabled={!props.canEdit}
                  aria-label={`Remove ${entry.value}`}
                  onClick={() => setRemoving(entry.value)}
                >
                  Remove
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function AddEntry(props: {
  list: ListSummary;
  canEdit: boolean;
  onChange: (change: Change) => void;
}) {
  const { api } = useAuth();
  const [value, setValue] = useState("");
  const [reason, setReason] = useState("");
  const [expires, setExpires] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function add(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const expiresAt = utcFromInput(expires) ?? null;
    try {
      const change = await api.addEntries(
        props.list.name,
        [{ value: value.trim(), reason: reason.trim(), expires_at: expiresAt }],
        reason.trim(),
      );
      setValue("");
      setExpires("");
      props.onChange(change);
    } catch (e) {
      setError(`Not added: ${(e as Error).message}`);
    }
  }

  return (
    <form className="list-form" aria-label="Add an entry" onSubmit={add}>
      <h3>Add an entry</h3>
      <label>
        Value
        <input
          className="mono"
          value={value}
          disabled={!props.canEdit}
          onChange={(e) => setValue(e.target.value)}
        />
      </label>
      <label>
        Reason
        <input
          value={reason}
          maxLength={500}
          disabled={!props.canEdit}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <label>
        Expires (UTC, optional)
        <input
          type="datetime-local"
          value={expires}
          disabled={!props.canEdit}
          onChange={(e) => setExpires(e.target.value)}
        />
      </label>
      <div className="form-actions">
        <button type="submit" disabled={!props.canEdit || !value.trim() || !reason.trim()}>
          Add entry
        </button>
      </div>
      <ErrorBanner message={error} />
    </form>
  );
}

function UploadEntries(props: {
  list: ListSummary;
  canEdit: boolean;
  onChange: (change: Change) => void;
}) {
  const { api } = useAuth();
  const [file, setFile] = useState<File | null>(null);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  async function upload(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setError(null);
    const csv = await file.text();
    if (uploadBodyBytes(csv, reason.trim()) > MAX_UPLOAD_BODY_BYTES) {
      setError("The file is larger than an upload takes (1 MiB): split it.");
      return;
    }
    setBusy(true);
    try {
      const change = await api.uploadEntries(props.list.name, csv, reason.trim());
      setFile(null);
      if (input.current) input.current.value = "";
      props.onChange(change);
    } catch (e) {
      setError(`The upload was refused: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="list-form" aria-label="Upload entries" onSubmit={upload}>
      <h3>Upload a CSV</h3>
      <p className="caption">
        Header <span className="mono">value,reason,expires_at</span>; tokens only, never card
        numbers; at most 1 MiB.
      </p>
      <label>
        CSV file
        <input
          ref={input}
          type="file"
          accept=".csv,text/csv"
          disabled={!props.canEdit}
          onChange={(e) => setFile(e.target.files?.[0] ?? null)}
        />
      </label>
      <label>
        Reason for the upload
        <input
          value={reason}
          maxLength={500}
          disabled={!props.canEdit}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <div className="form-actions">
        <button type="submit" disabled={!props.canEdit || !file || !reason.trim() || busy}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </div>
      <div className="upload-message">
        <ErrorBanner message={error} />
      </div>
    </form>
  );
}
