"""The named people of the scenarios, one address each.

Olivia (commissioning manager, owner) and Steve (chief finance officer, sponsor) own the
scenario contracts; the others appear in the digest scenarios. The seed contracts in
``config/seeds`` name their own people (``WM_OWNER`` and friends below): tests that read
those seeds compare against these.
"""

from __future__ import annotations

DOMAIN = "opcc.example.org"

OLIVIA = f"olivia@{DOMAIN}"  # commissioning manager (owner)
STEVE = f"steve@{DOMAIN}"  # chief finance officer (sponsor)
OSCAR = f"oscar@{DOMAIN}"
WENDY = f"wendy@{DOMAIN}"
QUINN = f"quinn@{DOMAIN}"
WALTER = f"walter@{DOMAIN}"
#: The tracker's own sender in the scenario environments.
MAIL_FROM = f"tracker@{DOMAIN}"

#: The people of config/seeds/west-mercia-drive-2018.yaml.
WM_OWNER = "commissioning@westmercia-pcc.example.org"
WM_SPONSOR = "cfo@westmercia-pcc.example.org"
#: The people of config/seeds/lancashire-drive-2024.yaml.
LANCS_OWNER = "policy.partnerships@lancashire-opcc.example.org"
LANCS_SPONSOR = "cfo@lancashire-opcc.example.org"
