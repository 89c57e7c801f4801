package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

func writeTable(w io.Writer, rep *Report) {
	m := rep.Machine
	fmt.Fprintf(w, "%s: %s, %d CPUs (%s), %s; server cpu %s, load cpu %s; loadavg %s before, %s after\n\n",
		rep.Scenario, rep.Date, m.CPUs, m.Model, m.GoVersion, cpuName(m.ServerCPU), cpuName(m.LoadCPU), m.LoadBefore, m.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	switch rep.Scenario {
	case "fanout":
		fmt.Fprintln(tw, "server\trate/s\tpubs\tsent/s\tdelivered\tdeliveries/s\tp50 ms\tp99 ms\tmax ms\tsrv cpu\tsrv µs/del\tload cpu\terrors\tlost\tsustained\t")
		for _, r := range rep.Runs {
			for _, s := range r.Fanout.Steps {
				fmt.Fprintf(tw, "%s\t%.0f\t%d\t%.0f\t%.3f%%\t%.0f\t%.2f\t%.2f\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%d\t%s\t\n",
					r.Server, s.Rate, s.Publishers, s.SentPerSec, 100*s.DeliveredRatio, s.DeliveriesPerSec,
					s.P50ms, s.P99ms, s.MaxMs, s.ServerCPU, s.ServerUsPerDel, s.LoadCPU, s.Errors, s.Lost, yesNo(s.Sustained))
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
		for _, r := range rep.Runs {
			fmt.Fprintf(w, "%s: %d members, max sustained %.0f msg/s (%.0f deliveries/s)\n",
				r.Server, r.Fanout.Members, r.Fanout.MaxSustained, r.Fanout.MaxSustained*float64(r.Fanout.Members-1))
			if r.Fanout.FirstError != "" {
				fmt.Fprintf(w, "  first error: %s\n", r.Fanout.FirstError)
			}
		}
	case "idle":
		fmt.Fprintln(tw, "server\tconns\tsetup s\tRSS before MiB\tRSS after MiB\tbytes/conn\tlost\t")
		for _, r := range rep.Runs {
			i := r.Idle
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.0f\t%d\t\n", r.Server, i.Conns, i.SetupSeconds,
				float64(i.RSSBefore)/(1<<20), float64(i.RSSAfter)/(1<<20), i.BytesPerConn, i.Lost)
		}
		tw.Flush()
	case "slow":
		fmt.Fprintln(tw, "server\tsent\tclosed: silent\tslow\tfast\tpublishers\tdelivered\tp50 ms\tp99 ms\tmax ms\tsrv cpu\tTCP mem MiB: before\tpeak\tend\tafter\tsilent unread MiB\t")
		for _, r := range rep.Runs {
			s := r.Slow
			ratio := 0.0
			if s.Expected > 0 {
				ratio = 100 * float64(s.Delivered) / float64(s.Expected)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%d/%d\t%d/%d\t%d/%d\t%.3f%%\t%.2f\t%.2f\t%.1f\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n",
				r.Server, s.Sent, s.SilentClosed, s.Silent, s.SlowClosed, s.SlowReaders, s.FastClosed, s.Fast, s.PublishersClosed, s.Publishers,
				ratio, s.P50ms, s.P99ms, s.MaxMs, s.ServerCPU, mib(s.TCPMemBefore), mib(s.TCPMemPeak), mib(s.TCPMemEnd), mib(s.TCPMemAfter), mib(s.SilentUnread))
		}
		tw.Flush()
		for _, r := range rep.Runs {
			if r.Slow.FirstClose != "" {
				fmt.Fprintf(w, "%s: first close of a reading member: %s\n", r.Server, r.Slow.FirstClose)
			}
		}
	case "connect":
		fmt.Fprintln(tw, "server\thandshakes\terrors\thandshakes/s\tp50 ms\tp99 ms\tsrv cpu\tload cpu\t")
		for _, r := range rep.Runs {
			c := r.Connect
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", r.Server, c.Handshakes, c.Errors, c.PerSec, c.P50ms, c.P99ms, c.ServerCPU, c.LoadCPU)
		}
		tw.Flush()
		for _, r := range rep.Runs {
			if r.Connect.FirstError != "" {
				fmt.Fprintf(w, "%s: first error: %s\n", r.Server, r.Connect.FirstError)
			}
		}
	}
	if len(rep.Ratios) > 0 {
		fmt.Fprintln(w, "\nswitchboard / baseline:")
		keys := make([]string, 0, len(rep.Ratios))
		for k := range rep.Ratios {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-28s %.2f×\n", k, rep.Ratios[k])
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func cpuName(c int) string {
	if c < 0 {
		return "any"
	}
	return fmt.Sprint(c)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
