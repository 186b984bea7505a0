/**
 * The referrer's page (docs/referrer-page.md): server-rendered, readable without JavaScript, on a
 * 390 px phone as on a desktop. Only the user's own links and money, as counts and amounts.
 */

import { raw } from "hono/html";
import type { FC } from "hono/jsx";
import { renderSVG } from "uqr";
import type { PayoutMethodJson } from "../../db/queries/payout-methods";
import { formatMinor } from "../../db/queries/report-sql.js";
import { SCRIPT, STYLE } from "./assets";
import type { PortalLinkView, PortalView } from "./data";

export interface PortalPageProps {
  view: PortalView;
  userId: string;
  paths: { page: string; createLink: string; csv: string; payoutMethod: string };
  /** A message at the top: what was done, or why a form was refused. */
  flash: { kind: "done" | "failed"; text: string } | null;
  /** The "Get your link" form, or why there is none. */
  getLink: { token: string; chosen: string } | { full: number } | null;
  payoutMethod: PayoutMethodForm;
}

const count = new Intl.NumberFormat("en-US");
const money = (amount: number, currency: string) => `${formatMinor(amount, currency)} ${currency}`;
const day = (iso: string) => iso.slice(0, 10);

const Money: FC<{ items: { currency: string; amount: number }[] }> = ({ items }) =>
  items.length === 0 ? (
    <span class="money">0</span>
  ) : (
    items.map((item) => (
      <span class="money" data-currency={item.currency} data-amount={item.amount}>
        {money(item.amount, item.currency)}
      </span>
    ))
  );

/** A QR code of the link's URL, as inline SVG (no request for an image). */
const Qr: FC<{ url: string }> = ({ url }) => (
  <figure class="qr" role="img" aria-label={`QR code of ${url}`}>
    {raw(renderSVG(url, { border: 1 }))}
  </figure>
);

const LinkCard: FC<{ link: PortalLinkView }> = ({ link }) => (
  <article class="link" data-link={link.identifier}>
    <div>
      <div class="url">
        <code data-url>{link.url}</code>
        <button type="button" data-copy={link.url} hidden>
          Copy
        </button>
        {link.disabled ? <span class="badge">disabled</span> : null}
      </div>
      {link.reward ? (
        <p class="note" data-reward>
          Friends who come through it get: {link.reward}
        </p>
      ) : null}
      <dl class="stats">
        <div>
          <dt>Clicks</dt>
          <dd data-stat="clicks">{count.format(link.stats.hits)}</dd>
        </div>
        <div>
          <dt>Unique clicks</dt>
          <dd data-stat="unique-clicks">{count.format(link.stats.unique_hits)}</dd>
        </div>
        <div>
          <dt>Sign-ups</dt>
          <dd data-stat="sign-ups">{count.format(link.stats.confirmed)}</dd>
        </div>
        <div>
          <dt>Conversions</dt>
          <dd data-stat="conversions">
            {count.format(link.revenue.reduce((sum, row) => sum + row.conversions, 0))}
          </dd>
        </div>
        <div>
          <dt>Commission</dt>
          <dd data-stat="commission">
            <Money items={link.revenue.map((row) => ({ currency: row.currency, amount: row.commission }))} />
          </dd>
        </div>
      </dl>
    </div>
    <Qr url={link.url} />
  </article>
);

/** The payout-method form: what the user last sent (after a refusal) or what is stored. */
export interface PayoutMethodForm {
  token: string;
  current: PayoutMethodJson | null;
  /** The fields as sent, shown again after a refusal; else the stored method's. */
  values: { type: string; email: string; iban: string; account_name: string };
}

/** An IBAN shown on a screen others may see: its country and check digits, and its last four. */
const maskedIban = (iban: string) => `${iban.slice(0, 4)} … ${iban.slice(-4)}`;

const METHOD_NAMES = { paypal: "PayPal", wise: "Wise", iban: "Bank transfer (IBAN)" } as const;

/** Where the user wants to be paid: a PayPal or Wise address, or an IBAN and the holder's name. */
const PayoutMethodSection: FC<{ action: string; form: PayoutMethodForm }> = ({ action, form }) => (
  <div id="payout-method">
    <h3>Where you are paid</h3>
    {form.current === null ? (
      <p class="note" data-method="none">
        Not set yet: tell us where to send your payouts.
      </p>
    ) : (
      <p class="note" data-method={form.current.type}>
        {METHOD_NAMES[form.current.type]}:{" "}
        <span class="id">
          {form.current.type === "iban" ? maskedIban(form.current.iban ?? "") : form.current.email}
        </span>
        {form.current.account_name ? <> ({form.current.account_name})</> : null}
      </p>
    )}
    <form method="post" action={action} class="method">
      <input type="hidden" name="form_token" value={form.token} />
      <label>
        Paid by
        <select name="type">
          {(["paypal", "wise", "iban"] as const).map((type) => (
            <option value={type} selected={form.values.type === type}>
              {METHOD_NAMES[type]}
            </option>
          ))}
        </select>
      </label>
      <label>
        E-mail (PayPal, Wise)
        <input type="email" name="email" value={form.values.email} maxlength={254} autocomplete="email" />
      </label>
      <label>
        IBAN (bank transfer)
        <input type="text" name="iban" value={form.values.iban} maxlength={42} autocomplete="off" />
      </label>
      <label>
        Account holder's name (Wise, bank transfer)
        <input
          type="text"
          name="account_name"
          value={form.values.account_name}
          maxlength={70}
          autocomplete="name"
        />
      </label>
      <button type="submit">Save</button>
    </form>
  </div>
);

export const PortalPage: FC<PortalPageProps> = ({ view, userId, paths, flash, getLink, payoutMethod }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="no-referrer" />
      <title>Your referral page</title>
      <style>{raw(STYLE)}</style>
    </head>
    <body>
      <header>
        <h1>Your referral page</h1>
        <p class="note">
          Signed in as <span data-user>{userId}</span>
        </p>
      </header>
      <main>
        {flash ? (
          <p class="flash" data-flash={flash.kind} role="status">
            {flash.text}
          </p>
        ) : null}
        <section id="links">
          <h2>Your links</h2>
          {view.links.length === 0 ? <p class="note">You have no referral link yet.</p> : null}
          {view.links.map((link) => (
            <LinkCard link={link} />
          ))}
        </section>
        {getLink === null ? null : (
          <section id="get-link">
            <h2>Get your link</h2>
            {"full" in getLink ? (
              <p class="note" data-links-full>
                You have {count.format(getLink.full)} {getLink.full === 1 ? "link" : "links"}, as many as you
                can create here.
              </p>
            ) : (
              <form method="post" action={paths.createLink}>
                <input type="hidden" name="form_token" value={getLink.token} />
                <label>
                  Name it (optional: letters, digits, - and _, up to 50)
                  <input
                    type="text"
                    name="identifier"
                    value={getLink.chosen}
                    maxlength={50}
                    pattern="[A-Za-z0-9_\-]{1,50}"
                    autocomplete="off"
                  />
                </label>
                <button type="submit">Get your link</button>
              </form>
            )}
          </section>
        )}
        <section id="earnings">
          <h2>Your earnings</h2>
          {view.earnings.length === 0 ? (
            <p class="note">Nothing yet: a commission appears here when someone you referred pays.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Currency</th>
                    <th class="n">Pending</th>
                    <th class="n">Approved</th>
                    <th class="n">Paid</th>
                    <th class="n">Held for review</th>
                  </tr>
                </thead>
                <tbody>
                  {view.earnings.map((row) => (
                    <tr data-currency={row.currency}>
                      <td>{row.currency}</td>
                      <td class="n" data-earning="pending">
                        {money(row.pending, row.currency)}
                        {row.nextApproval ? (
                          <span class="note" data-next-approval={row.nextApproval}>
                            <br />
                            next approved {day(row.nextApproval)}
                          </span>
                        ) : null}
                      </td>
                      <td class="n" data-earning="approved">
                        {money(row.approved, row.currency)}
                      </td>
                      <td class="n" data-earning="paid">
                        {money(row.paid, row.currency)}
                      </td>
                      <td class="n" data-earning="held">
                        {money(row.held, row.currency)}
                        {row.held > 0 ? (
                          <span class="note" data-held-reason>
                            <br />a sign-up is being reviewed
                          </span>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="note">
            <a href={paths.csv} download>
              Download every commission (CSV)
            </a>
          </p>
        </section>
        <section id="payouts">
          <h2>Your payouts</h2>
          {view.payouts.length === 0 ? (
            <p class="note">No payout yet.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Date</th>
                    <th class="n">Amount</th>
                    <th class="n">Commissions</th>
                  </tr>
                </thead>
                <tbody>
                  {view.payouts.map((payout) => (
                    <tr data-payout>
                      <td>{day(payout.createdAt)}</td>
                      <td class="n">{money(payout.amount, payout.currency)}</td>
                      <td class="n">{count.format(payout.commissions)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <PayoutMethodSection action={paths.payoutMethod} form={payoutMethod} />
        </section>
      </main>
      <script>{raw(SCRIPT)}</script>
    </body>
  </html>
);

/** A refusal with nothing else to show (a bad sign-in link, no user): a short page saying why. */
export const MessagePage: FC<{
  title: string;
  message: string;
  code: string;
  back?: { href: string; text: string };
}> = ({ title, message, code, back }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{title}</title>
      <style>{raw(STYLE)}</style>
    </head>
    <body>
      <main>
        <section>
          <h1>{title}</h1>
          <p data-error={code}>{message}</p>
          {back ? (
            <p>
              <a href={back.href}>{back.text}</a>
            </p>
          ) : null}
        </section>
      </main>
    </body>
  </html>
);
