"""The member portal (SPEC §10, docs/portal.md): server-rendered pages at ``/portal/{program}/``
where a member signed in through a one-time link sees its balance, tier, rewards, vouchers,
activity, referrals, card and privacy controls. It calls services only, like the console."""
