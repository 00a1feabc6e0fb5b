package engine

// Capacity is the capacity a request consumed, in DynamoDB's units.
type Capacity struct {
	Table string
	Read  float64 // read capacity units
	Write float64 // write capacity units
}

// Units is the total (read plus write) units.
func (c Capacity) Units() float64 { return c.Read + c.Write }

// writeCapacity: one unit per started KB of the larger of the old and new
// item, at least one.
func writeCapacity(table string, size int) Capacity {
	return Capacity{Table: table, Write: float64(units(size, 1024))}
}

// readCapacity: one unit per started 4 KB, at least one, halved for an
// eventually consistent read.
func readCapacity(table string, size int, consistent bool) Capacity {
	u := float64(units(size, 4096))
	if !consistent {
		u /= 2
	}
	return Capacity{Table: table, Read: u}
}

func units(size, per int) int {
	n := (size + per - 1) / per
	if n < 1 {
		n = 1
	}
	return n
}
