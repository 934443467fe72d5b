package enos

import (
	"fmt"
	"time"
)

// Period is the span of trigger times whose runs see the same time
// parameters: the service passes the trigger time into a flow's time
// parameters, and only the period of the flow's cycle (minute, hour, day,
// week, month; SERVICE.md §3.3) that holds it matters to them (SERVICE.md §4.6).
type Period struct {
	Cycle string    // the flow's cycle: mi, H, D, W or M
	Start time.Time // in the server's zone
	End   time.Time // exclusive
}

// periodOf is the period of cycle that holds t, in the server's zone loc.
// Weeks start on Monday. An unknown cycle is taken as a minute, the
// narrowest period, so that nothing is moved on a guess.
func periodOf(cycle string, t time.Time, loc *time.Location) Period {
	lt := t.In(loc)
	y, m, d := lt.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	p := Period{Cycle: cycle}
	switch cycle {
	case "H":
		p.Start = time.Date(y, m, d, lt.Hour(), 0, 0, 0, loc)
		p.End = p.Start.Add(time.Hour)
	case "D":
		p.Start, p.End = day, day.AddDate(0, 0, 1)
	case "W":
		p.Start = day.AddDate(0, 0, -((int(lt.Weekday()) + 6) % 7))
		p.End = p.Start.AddDate(0, 0, 7)
	case "M":
		p.Start = time.Date(y, m, 1, 0, 0, 0, 0, loc)
		p.End = p.Start.AddDate(0, 1, 0)
	default:
		p.Cycle = "mi"
		p.Start = slotStart(t, minuteSlot, loc)
		p.End = p.Start.Add(time.Minute)
	}
	return p
}

// String names the period as a user reads it, e.g. "the day 2024-01-01
// (GMT+8)".
func (p Period) String() string {
	zone := p.Start.Format("MST")
	switch p.Cycle {
	case "H":
		return fmt.Sprintf("the hour %s (%s)", p.Start.Format("2006-01-02 15:04"), zone)
	case "D":
		return fmt.Sprintf("the day %s (%s)", p.Start.Format("2006-01-02"), zone)
	case "W":
		return fmt.Sprintf("the week from Monday %s (%s)", p.Start.Format("2006-01-02"), zone)
	case "M":
		return fmt.Sprintf("the month %s (%s)", p.Start.Format("2006-01"), zone)
	}
	return fmt.Sprintf("the minute %s (%s)", p.Start.Format("2006-01-02 15:04"), zone)
}

func (p Period) contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }
