package statusjson_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// TestZeroValues checks that every zero document type survives a JSON round
// trip unchanged, and what the type docs say of their JSON.
func TestZeroValues(t *testing.T) {
	for _, zero := range []any{
		statusjson.Document{}, statusjson.Objective{}, statusjson.Local{}, statusjson.Window{},
		statusjson.Rule{}, statusjson.Sample{}, statusjson.LoadSample{}, statusjson.Shed{},
		statusjson.Breaker{}, statusjson.Gate{}, statusjson.Release{}, statusjson.Event{},
	} {
		data, err := json.Marshal(zero)
		if err != nil {
			t.Fatalf("json.Marshal(%T{}) = %v", zero, err)
		}
		back := reflect.New(reflect.TypeOf(zero))
		if err := json.Unmarshal(data, back.Interface()); err != nil {
			t.Fatalf("json.Unmarshal(%s) into %T = %v", data, zero, err)
		}
		if got := back.Elem().Interface(); !reflect.DeepEqual(got, zero) {
			t.Errorf("%T{} after a round trip through %s = %+v, want the zero value", zero, data, got)
		}
	}
	for _, tt := range []struct {
		zero any
		want []string
	}{
		{statusjson.LoadSample{}, []string{`"admitted":null`, `"rejected":null`, `"scale":null`}},
		{statusjson.Shed{}, []string{`"enabled":false`, `"reject":null`, `"rejected":null`}},
		{statusjson.Local{}, []string{`"state":""`, `"remaining":null`}},
		{statusjson.Release{}, []string{`"allowed":false`, `"frozen":false`}},
	} {
		data, _ := json.Marshal(tt.zero)
		for _, w := range tt.want {
			if !strings.Contains(string(data), w) {
				t.Errorf("json.Marshal(%T{}) = %s, want %s", tt.zero, data, w)
			}
		}
	}
}
