// What to do about a failed or waiting record, from its reason, in words and a link.
export interface Fix {
  text: string;
  to: string;
}

const FIXES: [RegExp, Fix][] = [
  [/plan|trial/i, { text: "Upgrade the plan to sync past the trial's limit", to: "/#plan" }],
  [/product/i, { text: "Map the product to a sales account (or set a default)", to: "/setup/products" }],
  [/gateway|currency/i, { text: "Map the payment gateway", to: "/setup/gateways" }],
  [/tax/i, { text: "Map the ONTRAPORT tax to a Xero tax code", to: "/setup/taxes" }],
  [/coupon|discount/i, { text: "Map the coupon (or set a default coupon account)", to: "/setup/coupons" }],
  [/shipping/i, { text: "Map the shipping method (or set a default)", to: "/setup/shipping" }],
  [/vendor|supplier/i, { text: "Link the Onport vendor to a Xero supplier", to: "/onport" }],
  [/xero|consent|organisation|token/i, { text: "Check the Xero connection", to: "/connections" }],
];

export function fixFor(reason: string | null | undefined, code: string | null | undefined): Fix {
  const text = `${code ?? ""} ${reason ?? ""}`;
  for (const [pattern, fix] of FIXES) if (pattern.test(text)) return fix;
  return { text: "Open a record to see what happened, then retry it", to: "/records?status=failed" };
}
