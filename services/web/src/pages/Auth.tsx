import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { storeTokens } from "../api/session";
import { ErrorNotice, TextField } from "../components/ui";

async function signIn(email: string, password: string) {
  const pair = unwrap(
    await api.POST("/v1/auth/token", {
      body: { username: email, password, scope: "" },
      bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
  storeTokens(pair);
}

export function SignInPage() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  const mutation = useMutation({
    mutationFn: () => signIn(email, password),
    onSuccess: () => navigate(from && from !== "/signin" ? from : "/", { replace: true }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <div className="card narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <TextField
          label="E-mail"
          type="email"
          value={email}
          onChange={setEmail}
          autoComplete="username"
          required
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
          required
        />
        <ErrorNotice error={mutation.error} />
        <button type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </div>
  );
}

export function SignUpPage() {
  const [company, setCompany] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const navigate = useNavigate();
  const mutation = useMutation({
    mutationFn: async () => {
      unwrap(await api.POST("/v1/auth/signup", { body: { company, email, password } }));
      await signIn(email, password);
    },
    onSuccess: () => navigate("/setup", { replace: true }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <div className="card narrow">
      <h1>Create your account</h1>
      <p>A free trial syncs your first 20 sales to Xero. Setup takes about ten minutes.</p>
      <form onSubmit={submit} aria-label="Create your account">
        <TextField
          label="Company"
          value={company}
          onChange={setCompany}
          autoComplete="organization"
          required
        />
        <TextField
          label="E-mail"
          type="email"
          value={email}
          onChange={setEmail}
          autoComplete="username"
          required
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="new-password"
          hint="At least 10 characters."
          required
        />
        <ErrorNotice error={mutation.error} />
        <button type="submit" disabled={mutation.isPending}>
          {mutation.isPending ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </div>
  );
}
