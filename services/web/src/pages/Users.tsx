import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { keys, useMe } from "../api/queries";
import { ErrorNotice, formatDate, Loading, SelectField, StatusNotice, TextField } from "../components/ui";

export function UsersPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const users = useQuery({
    queryKey: keys.users,
    queryFn: async () => unwrap(await api.GET("/v1/users")).items,
  });
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<"bookkeeper" | "owner">("bookkeeper");
  const invite = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/users", { body: { email, password, role } })),
    onSuccess: () => {
      setEmail("");
      setPassword("");
      void queryClient.invalidateQueries({ queryKey: keys.users });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate();
  };
  return (
    <>
      <h1>Who has access</h1>
      {users.isPending ? <Loading what="users" /> : null}
      <ErrorNotice error={users.error} />
      <table>
        <caption className="visually-hidden">Users of this account</caption>
        <thead>
          <tr>
            <th scope="col">E-mail</th>
            <th scope="col">Role</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {(users.data ?? []).map((user) => (
            <tr key={user.id}>
              <td>{user.email}</td>
              <td>{user.role}</td>
              <td>{formatDate(user.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {me.data?.role === "owner" ? (
        <section className="card" aria-labelledby="invite">
          <h2 id="invite">Invite a bookkeeper</h2>
          <p>Bookkeepers see everything and can retry records; only owners change connections.</p>
          <form onSubmit={submit} aria-label="Invite a user">
            <TextField label="E-mail" type="email" value={email} onChange={setEmail} required />
            <TextField
              label="Their first password"
              type="password"
              value={password}
              onChange={setPassword}
              hint="At least 10 characters; tell them to keep it safe."
              autoComplete="new-password"
              required
            />
            <SelectField
              label="Role"
              value={role}
              onChange={(v) => setRole(v === "owner" ? "owner" : "bookkeeper")}
              options={[
                { value: "bookkeeper", label: "Bookkeeper" },
                { value: "owner", label: "Owner" },
              ]}
            />
            <ErrorNotice error={invite.error} />
            {invite.isSuccess ? <StatusNotice>Invited {invite.data.email}.</StatusNotice> : null}
            <button type="submit" disabled={invite.isPending}>
              Invite
            </button>
          </form>
        </section>
      ) : (
        <p>Only an owner can invite people.</p>
      )}
    </>
  );
}
