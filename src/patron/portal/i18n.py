"""The portal's words in the program's language (``locale`` in its configuration: ``en``,
``fr``), and figures written the way people of that locale read them (Babel): points with the
locale's separators, money in the program's currency, dates in the program's time zone.

A missing French text falls back to the English one, so a new string never breaks a page.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

BABEL = {"en": "en_US", "fr": "fr_FR"}

EN: dict[str, str] = {
    "portal": "Loyalty",
    "nav.home": "Balance",
    "nav.rewards": "Rewards",
    "nav.activity": "Activity",
    "nav.invite": "Invite",
    "nav.card": "Card",
    "nav.privacy": "Privacy",
    "nav.label": "Portal sections",
    "sign_out": "Sign out",
    "back_to_shop": "Back to the shop",
    "hello": "Hello, {name}",
    "balance": "Balance",
    "available": "Available",
    "wallet.credit": "Store credit",
    "pending": "Pending",
    "pending_hint": "Points from recent purchases become available after the return window.",
    "pending_on": "{amount} on {date}",
    "expiring": "Expiring soon",
    "expiring_on": "{amount} expire on {date}",
    "nothing_expiring": "No points expire in the next 90 days.",
    "lifetime": "Earned since you joined: {amount}",
    "points": "points",
    "tier": "Tier",
    "tier_current": "You are {name}",
    "tier_progress": "{current} of {target} towards {next}",
    "tier_lift": "{missing} more to reach {next}",
    "tier_top": "You hold the top tier.",
    "tier_keep": "Keep {name}: {missing} more before {date}",
    "tier_kept": "{name} is yours until {date}.",
    "tier_kept_open": "{name} is yours; nothing more is needed to keep it.",
    "metric.spend": "spent",
    "metric.points_earned": "points earned",
    "metric.purchases": "purchases",
    "no_tiers": "This program has no tiers.",
    "next_reward": "Next reward",
    "see_rewards": "See the rewards",
    "next_reward_missing": "{missing} more points for {name}",
    "rewards": "Rewards",
    "rewards_empty": "No rewards yet: come back soon.",
    "redeem": "Redeem",
    "redeem_for": "Redeem for {amount}",
    "why.insufficient_balance": "You need {missing} more",
    "why.out_of_stock": "Out of stock",
    "why.inactive": "Not available at the moment",
    "why.not_started": "Available from {date}",
    "why.ended": "No longer available",
    "why.tier": "For members of another tier",
    "why.tier_not_eligible": "For members of another tier",
    "why.per_member_limit": "You have redeemed it the most times allowed",
    "why.limit_reached": "You have redeemed it the most times allowed",
    "why.other": "Not available to you now",
    "vouchers": "Vouchers",
    "vouchers_empty": "No vouchers yet: redeem a reward to get one.",
    "voucher_code": "Code",
    "voucher_valid": "Valid until {date}",
    "voucher_open": "Show the QR code",
    "voucher_status.issued": "Ready to use",
    "voucher_status.used": "Used",
    "voucher_status.expired": "Expired",
    "voucher_status.cancelled": "Cancelled",
    "voucher_status.void": "Void",
    "voucher_status.completed": "Done",
    "voucher_show": "Show this code at the till",
    "redeemed": "Redeemed {name}.",
    "redeemed_voucher": "Redeemed {name}. Your voucher code: {code}",
    "activity": "Activity",
    "activity_empty": "Nothing yet: your purchases and rewards will show here.",
    "older": "Older entries",
    "entry.earn": "Earned",
    "entry.purchase": "Purchase",
    "entry.redeem": "Reward",
    "entry.redemption": "Reward",
    "entry.adjust": "Adjustment",
    "entry.adjustment": "Adjustment",
    "entry.expire": "Expired",
    "entry.expiry": "Expired",
    "entry.refund": "Refund",
    "entry.referral": "Referral",
    "entry.transfer": "Transfer",
    "entry.grant": "Bonus",
    "entry.event": "Bonus",
    "entry.cancel": "Cancelled reward",
    "entry.erase": "Closed",
    "entry.release": "Now available",
    "entry.redemption_cancel": "Reward cancelled",
    "invite": "Invite friends",
    "invite_intro": "Share your link: when a friend joins and shops, you both earn points.",
    "invite_code": "Your referral code",
    "invite_link": "Your link",
    "share_email": "Email",
    "share_sms": "SMS",
    "share_whatsapp": "WhatsApp",
    "share_copy": "Copy the link",
    "share_copied": "Copied",
    "share_text": "Join me at {program}: {link}",
    "referrals": "Your referrals",
    "referrals_empty": "No referrals yet.",
    "referral.pending": "Joined, waiting for a first purchase",
    "referral.completed": "Completed: points earned",
    "referral.refused": "Not counted",
    "referral.reversed": "Reversed after a refund",
    "referral_on": "Joined on {date}",
    "card": "Card",
    "card_number": "Card number",
    "card_hint": "Show this code at the till to earn and redeem.",
    "card_alt": "Your loyalty card, number {number}, with its QR code and bar code",
    "add_apple": "Add to Apple Wallet",
    "add_google": "Add to Google Wallet",
    "privacy": "Privacy",
    "consents": "How we may contact you",
    "consent.email": "Email",
    "consent.sms": "SMS",
    "consent.push": "Push notifications",
    "consent.post": "Post",
    "consent_hint": "Offers and news. Messages about your account are always sent.",
    "save_consents": "Save my choices",
    "consents_saved": "Your choices are saved.",
    "download": "Download my data",
    "download_hint": "Everything we hold about you, as a JSON file.",
    "delete": "Delete my account",
    "delete_hint": (
        "Your personal data is erased and your points are closed. This cannot be undone."
    ),
    "delete_confirm_title": "Delete your account?",
    "delete_confirm_text": (
        "We will erase your name, email, phone and other personal data, close your balance of "
        "{amount} and void your vouchers. You will be signed out. This cannot be undone."
    ),
    "delete_type": "Type DELETE to confirm",
    "delete_word": "DELETE",
    "delete_wrong": "Type DELETE, in capital letters, to confirm.",
    "delete_button": "Delete my account for good",
    "cancel": "Keep my account",
    "deleted_title": "Your account is deleted",
    "deleted_text": "Your personal data is erased. Thank you for having been a member.",
    "login_title": "Sign in",
    "login_intro": "Enter the email you gave when you joined; we will send you a sign-in link.",
    "email": "Email",
    "send_link": "Email me a sign-in link",
    "invited": "A friend invited you. Join at the shop with code {code} to earn points together.",
    "sent_title": "Check your email",
    "sent_text": (
        "If {email} belongs to a member, a sign-in link is on its way. It works once, for "
        "15 minutes. Nothing arrived? Check your spam folder or ask again."
    ),
    "ask_again": "Ask for another link",
    "link_title": "Sign in",
    "link_text": "Continue to your loyalty account.",
    "link_button": "Sign in",
    "link_used": "This link was already used",
    "link_expired": "This link has expired",
    "link_unknown": "This link is not valid",
    "link_member": "This account has no access to the portal",
    "link_help": "Sign-in links work once, for 15 minutes. Ask for a new one below.",
    "new_link": "Ask for a new link",
    "signed_out": "You are signed out.",
    "too_many": "Too many requests: wait a minute and try again.",
    "email_invalid": "Enter an email address, like name@example.com",
    "error_title": "Something went wrong",
    "not_found": "Page not found",
    "not_found_text": "This page does not exist or is not yours.",
    "form_expired": "This form has expired: reload the page and try again.",
    "go_home": "Go to my account",
    "refused": "Nothing was changed: {reason}",
    "qr_alt": "QR code of {code}",
    "launcher.close": "Close",
    "launcher.frame": "{name}: your account",
    "launcher.loading": "Loading your account…",
}

FR: dict[str, str] = {
    "portal": "Fidélité",
    "nav.home": "Solde",
    "nav.rewards": "Cadeaux",
    "nav.activity": "Activité",
    "nav.invite": "Parrainer",
    "nav.card": "Carte",
    "nav.privacy": "Données",
    "nav.label": "Rubriques du portail",
    "sign_out": "Se déconnecter",
    "back_to_shop": "Retour à la boutique",
    "hello": "Bonjour {name}",
    "balance": "Solde",
    "available": "Disponible",
    "wallet.credit": "Avoir",
    "pending": "En attente",
    "pending_hint": "Les points des achats récents sont disponibles après le délai de retour.",
    "pending_on": "{amount} le {date}",
    "expiring": "Expirent bientôt",
    "expiring_on": "{amount} expirent le {date}",
    "nothing_expiring": "Aucun point n'expire dans les 90 prochains jours.",
    "lifetime": "Gagnés depuis votre inscription : {amount}",
    "points": "points",
    "tier": "Statut",
    "tier_current": "Vous êtes {name}",
    "tier_progress": "{current} sur {target} vers {next}",
    "tier_lift": "Encore {missing} pour atteindre {next}",
    "tier_top": "Vous avez le statut le plus élevé.",
    "tier_keep": "Pour garder {name} : encore {missing} avant le {date}",
    "tier_kept": "{name} vous est acquis jusqu'au {date}.",
    "tier_kept_open": "{name} vous est acquis ; rien de plus n'est nécessaire.",
    "metric.spend": "dépensés",
    "metric.points_earned": "points gagnés",
    "metric.purchases": "achats",
    "no_tiers": "Ce programme n'a pas de statuts.",
    "next_reward": "Prochaine récompense",
    "see_rewards": "Voir les récompenses",
    "next_reward_missing": "Encore {missing} points pour {name}",
    "rewards": "Récompenses",
    "rewards_empty": "Pas encore de récompenses : revenez bientôt.",
    "redeem": "Échanger",
    "redeem_for": "Échanger contre {amount}",
    "why.insufficient_balance": "Il vous manque {missing}",
    "why.out_of_stock": "Épuisé",
    "why.inactive": "Indisponible pour le moment",
    "why.not_started": "Disponible à partir du {date}",
    "why.ended": "N'est plus disponible",
    "why.tier": "Réservé à un autre statut",
    "why.tier_not_eligible": "Réservé à un autre statut",
    "why.per_member_limit": "Vous l'avez déjà échangé le nombre de fois permis",
    "why.limit_reached": "Vous l'avez déjà échangé le nombre de fois permis",
    "why.other": "Indisponible pour vous en ce moment",
    "vouchers": "Bons",
    "vouchers_empty": "Pas encore de bons : échangez une récompense pour en obtenir un.",
    "voucher_code": "Code",
    "voucher_valid": "Valable jusqu'au {date}",
    "voucher_open": "Afficher le QR code",
    "voucher_status.issued": "Prêt à l'emploi",
    "voucher_status.used": "Utilisé",
    "voucher_status.expired": "Expiré",
    "voucher_status.cancelled": "Annulé",
    "voucher_status.void": "Annulé",
    "voucher_status.completed": "Effectué",
    "voucher_show": "Présentez ce code en caisse",
    "redeemed": "{name} échangé.",
    "redeemed_voucher": "{name} échangé. Votre code : {code}",
    "activity": "Historique",
    "activity_empty": "Rien pour l'instant : vos achats et récompenses apparaîtront ici.",
    "older": "Plus ancien",
    "entry.earn": "Gagné",
    "entry.purchase": "Achat",
    "entry.redeem": "Récompense",
    "entry.redemption": "Récompense",
    "entry.adjust": "Ajustement",
    "entry.adjustment": "Ajustement",
    "entry.expire": "Expiré",
    "entry.expiry": "Expiré",
    "entry.refund": "Remboursement",
    "entry.referral": "Parrainage",
    "entry.transfer": "Transfert",
    "entry.grant": "Bonus",
    "entry.event": "Bonus",
    "entry.cancel": "Récompense annulée",
    "entry.erase": "Clôture",
    "entry.release": "Disponible",
    "entry.redemption_cancel": "Récompense annulée",
    "invite": "Inviter des amis",
    "invite_intro": "Partagez votre lien : quand un ami s'inscrit et achète, vous gagnez tous "
    "les deux des points.",
    "invite_code": "Votre code de parrainage",
    "invite_link": "Votre lien",
    "share_email": "E-mail",
    "share_sms": "SMS",
    "share_whatsapp": "WhatsApp",
    "share_copy": "Copier le lien",
    "share_copied": "Copié",
    "share_text": "Rejoins-moi chez {program} : {link}",
    "referrals": "Vos parrainages",
    "referrals_empty": "Pas encore de parrainages.",
    "referral.pending": "Inscrit, en attente d'un premier achat",
    "referral.completed": "Validé : points gagnés",
    "referral.refused": "Non comptabilisé",
    "referral.reversed": "Annulé après un remboursement",
    "referral_on": "Inscrit le {date}",
    "card": "Carte",
    "card_number": "Numéro de carte",
    "card_hint": "Présentez ce code en caisse pour gagner et échanger vos points.",
    "card_alt": "Votre carte de fidélité, numéro {number}, avec son QR code et son code-barres",
    "add_apple": "Ajouter à Apple Wallet",
    "add_google": "Ajouter à Google Wallet",
    "privacy": "Données personnelles",
    "consents": "Comment nous pouvons vous contacter",
    "consent.email": "E-mail",
    "consent.sms": "SMS",
    "consent.push": "Notifications",
    "consent.post": "Courrier",
    "consent_hint": "Offres et actualités. Les messages sur votre compte sont toujours envoyés.",
    "save_consents": "Enregistrer mes choix",
    "consents_saved": "Vos choix sont enregistrés.",
    "download": "Télécharger mes données",
    "download_hint": "Tout ce que nous détenons sur vous, dans un fichier JSON.",
    "delete": "Supprimer mon compte",
    "delete_hint": (
        "Vos données personnelles sont effacées et vos points clôturés. C'est définitif."
    ),
    "delete_confirm_title": "Supprimer votre compte ?",
    "delete_confirm_text": (
        "Nous effacerons vos nom, e-mail, téléphone et autres données personnelles, "
        "clôturerons votre solde de {amount} et annulerons vos bons. Vous serez déconnecté. "
        "C'est définitif."
    ),
    "delete_type": "Tapez SUPPRIMER pour confirmer",
    "delete_word": "SUPPRIMER",
    "delete_wrong": "Tapez SUPPRIMER, en majuscules, pour confirmer.",
    "delete_button": "Supprimer définitivement mon compte",
    "cancel": "Garder mon compte",
    "deleted_title": "Votre compte est supprimé",
    "deleted_text": "Vos données personnelles sont effacées. Merci d'avoir été membre.",
    "login_title": "Connexion",
    "login_intro": "Indiquez l'e-mail donné à l'inscription : nous vous enverrons un lien de "
    "connexion.",
    "email": "E-mail",
    "send_link": "Recevoir un lien de connexion",
    "invited": "Un ami vous invite. Inscrivez-vous en boutique avec le code {code} pour "
    "gagner des points ensemble.",
    "sent_title": "Consultez vos e-mails",
    "sent_text": (
        "Si {email} appartient à un membre, un lien de connexion est en route. Il fonctionne "
        "une fois, pendant 15 minutes. Rien reçu ? Regardez vos indésirables ou redemandez-le."
    ),
    "ask_again": "Demander un autre lien",
    "link_title": "Connexion",
    "link_text": "Accédez à votre compte fidélité.",
    "link_button": "Se connecter",
    "link_used": "Ce lien a déjà été utilisé",
    "link_expired": "Ce lien a expiré",
    "link_unknown": "Ce lien n'est pas valide",
    "link_member": "Ce compte n'a pas accès au portail",
    "link_help": "Les liens de connexion fonctionnent une fois, pendant 15 minutes. "
    "Demandez-en un nouveau ci-dessous.",
    "new_link": "Demander un nouveau lien",
    "signed_out": "Vous êtes déconnecté.",
    "too_many": "Trop de demandes : patientez une minute et réessayez.",
    "email_invalid": "Saisissez une adresse e-mail, comme nom@exemple.fr",
    "error_title": "Un problème est survenu",
    "not_found": "Page introuvable",
    "not_found_text": "Cette page n'existe pas ou ne vous appartient pas.",
    "form_expired": "Ce formulaire a expiré : rechargez la page et réessayez.",
    "go_home": "Aller à mon compte",
    "refused": "Rien n'a été modifié : {reason}",
    "qr_alt": "QR code de {code}",
    "launcher.close": "Fermer",
    "launcher.frame": "{name} : votre compte",
    "launcher.loading": "Chargement de votre compte…",
}

CATALOGUES = {"en": EN, "fr": FR}


class Words:
    """``t(key, **values)`` and the figure formatters of one locale and time zone."""

    def __init__(self, locale: str, tz: str, currency: str) -> None:
        self.locale = locale if locale in CATALOGUES else "en"
        self.babel = BABEL[self.locale]
        self.tz = tz
        self.currency = currency
        self._words = CATALOGUES[self.locale]

    def t(self, key: str, **values: object) -> str:
        text = self._words.get(key) or EN.get(key) or key
        return text.format(**values) if values else text

    def number(self, value: int | Decimal | str | None) -> str:
        if value is None or value == "":
            return "—"
        return format_decimal(Decimal(value), locale=self.babel)

    def points(self, value: int | Decimal | str | None) -> str:
        return f"{self.number(value)}\u00a0{self.t('points')}"

    def money(self, value: int | Decimal | str | None) -> str:
        if value is None or value == "":
            return "—"
        return format_currency(Decimal(value), self.currency, locale=self.babel)

    def signed(self, value: int) -> str:
        text = self.number(abs(value))
        return f"+{text}" if value > 0 else (f"\u2212{text}" if value < 0 else text)

    def day(self, value: datetime | date | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(ZoneInfo(self.tz)).date()
        # "3 Mar 2027" in English (UI.md), "3 mars 2027" in French
        pattern = "d MMM y" if self.locale == "en" else "medium"
        return format_date(value, format=pattern, locale=self.babel)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", tzinfo=ZoneInfo(self.tz), locale=self.babel)
