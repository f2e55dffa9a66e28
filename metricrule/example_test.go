package metricrule_test

import (
	"fmt"

	"github.com/nightjar-dev/nightjar/metricrule"
)

// A backup job reports how much it wrote. The check's rule catches a run
// that exits zero but writes far less than the run before.
func ExampleRule_Eval() {
	rule, err := metricrule.ParseRule("bytes >= 0.5*previous")
	if err != nil {
		panic(err)
	}
	fmt.Println(rule)

	prev, _ := metricrule.ParseQuery("bytes:2000000,files:12")
	cur, _ := metricrule.ParseJSON([]byte(`{"metrics": {"bytes": 120, "files": 12}}`))

	fmt.Println(rule.Eval(prev, nil))
	fmt.Println(rule.Eval(cur, prev))
	fmt.Println(rule.Eval(metricrule.Metrics{"files": 12}, prev))
	// Output:
	// bytes >= 0.5 * previous
	// {true no previous value of bytes to compare with yet}
	// {false bytes = 120 is not >= 0.5 * previous (= 1000000)}
	// {false metric bytes missing}
}

// ParseRules reports every bad rule at once when a check is saved.
func ExampleParseRules() {
	_, err := metricrule.ParseRules([]string{"rows > 0", "bytes >= ", "size = 0"})
	fmt.Println(err)
	// Output:
	// rule 2 "bytes >= ": at 10: expected a number, metric name or "previous", got end of rule; rule 3 "size = 0": at 6: expected a comparison such as ==, <= or >=, got a single "="
}
