#!/bin/bash
# vm: tsc-skew
# The guest keeps the host's time even when its kernel calibrated the
# TSC's rate wrong at boot, as a loaded host can make it (here booted with
# a rate 10x or more too low, so the TSC-driven clock runs that much
# fast): guest-init saw the system clock apart from the RTC and made the
# HPET the clocksource, so the tests' timeouts last what they say.
set -euo pipefail
: "${UBLK_USER_TEST_ROOT:?run this in the test VM: tests/vm/vm-exec $0}"
# shellcheck source=../lib/tap.sh
source "$UBLK_USER_TEST_ROOT/tests/lib/tap.sh"

cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
rtc=/sys/class/rtc/rtc0/since_epoch
like "$(</proc/cmdline)" "tsc_early_khz=100000" "booted with the TSC's rate set 10x or more too low"
is "$(<"$cs")" hpet "the guest keeps time with the HPET"
t0=$EPOCHSECONDS
r0=$(<"$rtc")
sleep 5
drift=$(((EPOCHSECONDS - t0) - ($(<"$rtc") - r0)))
ok "5 s of the guest's clock are 5 s of the RTC's (apart by $drift s)" test "${drift#-}" -le 1
done_testing
