"""The templates Patron ships, per locale, event and channel: ``(subject, body)``; SMS have no
subject. A program uses them until it saves its own for the (event, channel) pair."""

from __future__ import annotations

from typing import Final

Template = tuple[str | None, str]

_EN: dict[str, dict[str, Template]] = {
    "member.enrolled": {
        "email": (
            "Welcome to {{ program_name }}",
            "Hello {{ first_name or 'there' }},\n\n"
            "Welcome to {{ program_name }}! You earn points every time you shop with us, "
            "and they turn into rewards.\n\n"
            "Your card number: {{ card_number }}\n"
            "Invite friends with your code {{ referral_code }} and earn together.\n\n"
            "See your points and rewards: {{ portal_link }}\n\n"
            "To stop receiving these emails: {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "Welcome to {{ program_name }}, {{ first_name or 'friend' }}! "
            "Your points and rewards: {{ portal_link }} Stop: {{ unsubscribe_link }}",
        ),
    },
    "points.earned": {
        "email": (
            "You earned {{ points }} points",
            "Hello {{ first_name or 'there' }},\n\n"
            "You just earned {{ points }} points. Your balance is now {{ balance }} points.\n\n"
            "See what you can redeem: {{ portal_link }}\n\n"
            "To stop receiving these emails: {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }}: +{{ points }} points, balance {{ balance }}. "
            "Stop: {{ unsubscribe_link }}",
        ),
    },
    "points.expiring": {
        "email": (
            "{{ points }} of your points expire on {{ expiry_date }}",
            "Hello {{ first_name or 'there' }},\n\n"
            "{{ points }} of your points expire on {{ expiry_date }}. "
            "Use them before then: your balance is {{ balance }} points.\n\n"
            "Choose a reward: {{ portal_link }}\n\n"
            "To stop receiving these emails: {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }}: {{ points }} points expire on {{ expiry_date }}. "
            "Use them: {{ portal_link }} Stop: {{ unsubscribe_link }}",
        ),
    },
    "tier.changed": {
        "email": (
            "You are now {{ tier }}",
            "Hello {{ first_name or 'there' }},\n\n"
            "{% if previous_tier %}Your tier changed from {{ previous_tier }} to {{ tier }}."
            "{% else %}You are now {{ tier }}.{% endif %}\n\n"
            "See what it brings you: {{ portal_link }}\n\n"
            "To stop receiving these emails: {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }}: you are now {{ tier }}. {{ portal_link }} "
            "Stop: {{ unsubscribe_link }}",
        ),
    },
    "reward.redeemed": {
        "email": (
            "Your reward: {{ reward }}",
            "Hello {{ first_name or 'there' }},\n\n"
            "You redeemed {{ reward }}.\n"
            "{% if voucher_code %}Your voucher code: {{ voucher_code }}\n"
            "{% if voucher_expiry %}Valid until {{ voucher_expiry }}.\n{% endif %}{% endif %}\n"
            "Your balance is now {{ balance }} points.\n\n"
            "Your vouchers: {{ portal_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }}: {{ reward }} redeemed."
            "{% if voucher_code %} Code {{ voucher_code }}.{% endif %} {{ portal_link }}",
        ),
    },
    "referral.completed": {
        "email": (
            "{{ friend_first_name or 'Your friend' }} joined thanks to you",
            "Hello {{ first_name or 'there' }},\n\n"
            "{{ friend_first_name or 'Your friend' }} made a first purchase with your referral "
            "code. Thank you! Your balance is now {{ balance }} points.\n\n"
            "Invite more friends: {{ portal_link }}\n\n"
            "To stop receiving these emails: {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }}: your referral is complete, thank you! "
            "Balance {{ balance }}. Stop: {{ unsubscribe_link }}",
        ),
    },
    "portal.sign_in": {
        "email": (
            "Your sign-in link for {{ program_name }}",
            "Hello {{ first_name or 'there' }},\n\n"
            "Open this link to see your points and rewards:\n{{ sign_in_link }}\n\n"
            "It works once, for {{ valid_minutes }} minutes. "
            "If you did not ask for it, ignore this email.",
        ),
        "sms": (
            None,
            "{{ program_name }} sign-in link (valid {{ valid_minutes }} min): {{ sign_in_link }}",
        ),
    },
}

_FR: dict[str, dict[str, Template]] = {
    "member.enrolled": {
        "email": (
            "Bienvenue chez {{ program_name }}",
            "Bonjour {{ first_name }},\n\n"
            "Bienvenue chez {{ program_name }} ! Vous gagnez des points à chaque achat, "
            "et ils se transforment en récompenses.\n\n"
            "Votre numéro de carte : {{ card_number }}\n"
            "Parrainez vos proches avec votre code {{ referral_code }}.\n\n"
            "Vos points et récompenses : {{ portal_link }}\n\n"
            "Pour ne plus recevoir ces e-mails : {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "Bienvenue chez {{ program_name }} ! Vos points : {{ portal_link }} "
            "Stop : {{ unsubscribe_link }}",
        ),
    },
    "points.earned": {
        "email": (
            "Vous avez gagné {{ points }} points",
            "Bonjour {{ first_name }},\n\n"
            "Vous venez de gagner {{ points }} points. Votre solde est de {{ balance }} points."
            "\n\nDécouvrez vos récompenses : {{ portal_link }}\n\n"
            "Pour ne plus recevoir ces e-mails : {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }} : +{{ points }} points, solde {{ balance }}. "
            "Stop : {{ unsubscribe_link }}",
        ),
    },
    "points.expiring": {
        "email": (
            "{{ points }} de vos points expirent le {{ expiry_date }}",
            "Bonjour {{ first_name }},\n\n"
            "{{ points }} de vos points expirent le {{ expiry_date }}. "
            "Utilisez-les avant : votre solde est de {{ balance }} points.\n\n"
            "Choisissez une récompense : {{ portal_link }}\n\n"
            "Pour ne plus recevoir ces e-mails : {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }} : {{ points }} points expirent le {{ expiry_date }}. "
            "{{ portal_link }} Stop : {{ unsubscribe_link }}",
        ),
    },
    "tier.changed": {
        "email": (
            "Vous êtes désormais {{ tier }}",
            "Bonjour {{ first_name }},\n\n"
            "{% if previous_tier %}Votre niveau passe de {{ previous_tier }} à {{ tier }}."
            "{% else %}Vous êtes désormais {{ tier }}.{% endif %}\n\n"
            "Vos avantages : {{ portal_link }}\n\n"
            "Pour ne plus recevoir ces e-mails : {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }} : vous êtes désormais {{ tier }}. {{ portal_link }} "
            "Stop : {{ unsubscribe_link }}",
        ),
    },
    "reward.redeemed": {
        "email": (
            "Votre récompense : {{ reward }}",
            "Bonjour {{ first_name }},\n\n"
            "Vous avez échangé vos points contre : {{ reward }}.\n"
            "{% if voucher_code %}Votre code : {{ voucher_code }}\n"
            "{% if voucher_expiry %}Valable jusqu'au {{ voucher_expiry }}.\n{% endif %}"
            "{% endif %}\nVotre solde est de {{ balance }} points.\n\n"
            "Vos bons : {{ portal_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }} : {{ reward }} obtenu."
            "{% if voucher_code %} Code {{ voucher_code }}.{% endif %} {{ portal_link }}",
        ),
    },
    "referral.completed": {
        "email": (
            "{{ friend_first_name or 'Votre proche' }} vous a rejoint",
            "Bonjour {{ first_name }},\n\n"
            "{{ friend_first_name or 'Votre proche' }} a fait un premier achat avec votre code "
            "de parrainage. Merci ! Votre solde est de {{ balance }} points.\n\n"
            "Parrainez d'autres proches : {{ portal_link }}\n\n"
            "Pour ne plus recevoir ces e-mails : {{ unsubscribe_link }}",
        ),
        "sms": (
            None,
            "{{ program_name }} : parrainage réussi, merci ! Solde {{ balance }}. "
            "Stop : {{ unsubscribe_link }}",
        ),
    },
    "portal.sign_in": {
        "email": (
            "Votre lien de connexion à {{ program_name }}",
            "Bonjour {{ first_name }},\n\n"
            "Ouvrez ce lien pour voir vos points et récompenses :\n{{ sign_in_link }}\n\n"
            "Il fonctionne une fois, pendant {{ valid_minutes }} minutes. "
            "Si vous ne l'avez pas demandé, ignorez cet e-mail.",
        ),
        "sms": (
            None,
            "Lien de connexion {{ program_name }} (valable {{ valid_minutes }} min) : "
            "{{ sign_in_link }}",
        ),
    },
}

DEFAULTS: Final[dict[str, dict[str, dict[str, Template]]]] = {"en": _EN, "fr": _FR}


def default_template(locale: str | None, event: str, channel: str) -> Template:
    return DEFAULTS.get(locale or "en", _EN)[event][channel]
