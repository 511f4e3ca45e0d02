"""The field tables of The Things Stack decoded payloads (payload formatters of
the vendors' device repository, github TheThingsNetwork/lorawan-devices).

Vendors name the same measurement differently (``occupancy``, ``Occupy``,
``occupied``, ``room_occupancy``...): keys are compared *normalized* (lower
case, without ``_``, ``-`` and spaces), so one table covers every spelling.
Only where a device really behaves differently is there a model rule (Elsys
``occupancy`` 0/1/2, Browan ``status`` and volt ``battery``).
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)


def norm(key: str) -> str:
    """``"Room_Occupancy"`` -> ``"roomoccupancy"``."""
    return key.lower().replace("_", "").replace("-", "").replace(" ", "")


#: Presence states (booleans, 0/1, "occupied"/"vacant"...), first found wins.
PRESENCE = (
    "presencedetectedwhensending",  # Adeunis Motion (its "presence" is a history)
    "occupancy",
    "occupied",
    "occupy",  # Netvox RB11E, R313...
    "presence",
    "occupancystatus",
    "occupancystate",
    "roomoccupancy",
    "deskoccupancy",
    "deskstatus",
    "presencestatus",
    "presencestate",
    "humanpresence",
    "motiondetected",  # Pressac, Strega: PIR state
    "roomoccupied",
)
#: Per-region states (Milesight VS321 ``region_N`` with ``region_N_enable``,
#: VS373 ``region_N_occupancy``): occupied when any enabled region is.
REGION = re.compile(r"^region(\d+)(occupancy)?$")
#: Overall state used only when no presence key or region says more
#: (VS373: ``detection_status``; values that are not a state are skipped).
PRESENCE_FALLBACK = ("detectionstatus",)
#: Motion triggers: value that means "a trigger" per key.
MOTION_STRINGS = frozenset({"trigger", "triggered", "motion", "detected"})
#: (true or 1 is a trigger too: MClimate ``pir``, Micropelt ``PIR_Status``).
MOTION = ("pir", "pirstatus", "motionstatus", "activity")
#: Counters of PIR triggers since the previous uplink (> 0 = motion): Elsys
#: ``motion``, Milesight AM1xx ``activity``, Decentlab ``activity_counter``,
#: Tektelic ``motion_event_count``.
MOTION_COUNTS = (
    "motion",
    "motioncount",
    "pircount",
    "activity",
    "activitycounter",
    "motioneventcount",
)
#: Head counts in the covered space.
COUNT = (
    "peoplecounterall",  # Milesight VS121 (current formatter)
    "peoplecountall",  # Milesight VS121 (older formatter)
    "peoplecount",
    "peoplecounter",
    "peopletotalcounts",  # Milesight VS321: people in the detection area
    "people",
    "occupants",
    "personcount",
    "occupancycount",
    "headcount",
    "numberofpeople",
    "pax",  # ESP32 Paxcounter: Wi-Fi + BLE devices seen, its people estimate
    "balancecounter",  # Dingtek DC520: in minus out, the people inside
)
#: Line crossings (in/out, cumulative or per period; Milesight VS133/VS135/
#: VS350 ``line_N.total_in``, ``line_N_total_out``, IMBUILDINGS ``counter_a``):
#: people passing a line, not a head count (normalized-key pattern).
LINE_COUNTERS = re.compile(
    r"(total|period)(in|out)|counter[ab]$|^line\d+$|^(in|out)counter$"
)
#: Brands whose head-count-looking key counts people passing a beam (Dingtek
#: DC500/DC510 ``peopleCounter``: one direction, cumulative): a line counter.
LINE_KEYS_BY_BRAND = {"dingtek": frozenset({"peoplecounter"})}
#: Dingtek's formatter keys beside ``peopleCounter`` (brand without version_ids).
DINGTEK_SIGNATURE = frozenset({"peoplecounter", "alarmcounter"})
BATTERY = (
    "battery",
    "batterylevel",
    "batterypercent",
    "batterypercentage",
    "rembattcapacitysensor",  # Tektelic: remaining battery capacity [%]
    "rembattcapacity",
)
#: Brands whose ``battery`` is in volts.
VOLT_BATTERY_BRANDS = ("browan", "tabs")
#: Brands whose ``status`` keys are presence (normalized-key pattern): Browan/
#: TABS TBMS100 ``status`` 1 = occupied; Netvox R718Q/R718QA ``status`` 1 =
#: occupied, R311WA ``Status_1``/``Status_2`` ON = seat taken (occupied when
#: any is). Never in a response to a command (``Cmd``).
STATUS_PRESENCE = {
    "browan": re.compile(r"^status$"),
    "tabs": re.compile(r"^status$"),
    "netvox": re.compile(r"^status\d?$"),
}
#: Netvox's formatter writes ``Device`` (the model) and ``Volt`` in every report.
NETVOX_SIGNATURE = frozenset({"device", "volt"})
#: Fields of a Browan/TABS motion sensor uplink (its ``status`` is presence).
BROWAN_SIGNATURE = frozenset({"status", "count", "time"})
#: Keys only Elsys' formatter writes beside ``occupancy`` (0/1/2): ``vdd``
#: (battery mV), ``accmotion``, ``x``/``y``/``z`` (EMS), ``motion`` + ``light``.
ELSYS_SIGNATURE = frozenset({"vdd", "accmotion", "x", "light", "irinternaltemperature"})
#: A fractional ``battery`` below this is a voltage [V], not a percentage.
MAX_VOLTS = 5.0
#: Keys of responses to configuration commands (no measurement).
CONFIG = (
    "cmd",
    "command",
    "keepalivetime",
    "occupancytimeout",
    "reportinterval",
    "uploadinterval",  # Dingtek parameter packet
    "sendcycle",  # Paxcounter device configuration
)
#: Keys of device-information uplinks (firmware, hardware, serial).
DEVICE_INFO = (
    "swver",
    "hwver",
    "datecode",
    "firmwareversion",
    "hardwareversion",
    "ipsoversion",
    "sn",
    "serialnumber",
)
