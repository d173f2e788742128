package gateway_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imbridge/imbridge/gateway"
	"github.com/imbridge/imbridge/gen/openapiv2"
)

// openAPIDoc is the part of the OpenAPI v2 document these tests read.
type openAPIDoc struct {
	Info struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Paths               map[string]map[string]json.RawMessage `json:"paths"`
	SecurityDefinitions map[string]struct {
		Type string `json:"type"`
		In   string `json:"in"`
		Name string `json:"name"`
	} `json:"securityDefinitions"`
	Security []map[string][]string `json:"security"`
}

type openAPIOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	// Security is nil when the operation inherits the document's security.
	Security *[]map[string][]string `json:"security"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openapiv2.Document, &doc); err != nil {
		t.Fatalf("parse OpenAPI document: %v", err)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("OpenAPI document has no paths")
	}
	return doc
}

// operations returns every operation of the document, keyed "METHOD path".
func operations(t *testing.T, doc openAPIDoc) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: parse operation: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

var pathParam = regexp.MustCompile(`\{([^}]*)\}`)

func TestOpenAPINoCollapsedPathParameters(t *testing.T) {
	t.Parallel()
	collapsed := regexp.MustCompile(`\{name_\d+\}`)
	for path := range loadOpenAPI(t).Paths {
		if collapsed.MatchString(path) {
			t.Errorf("path %q has a collapsed parameter {name_N}: generate with expand_slashed_path_patterns", path)
		}
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if strings.ContainsAny(m[1], "=*/.") || m[1] == "name" || m[1] == "parent" {
				t.Errorf("path %q has parameter {%s}, not a resource segment", path, m[1])
			}
		}
	}
}

// fieldPathParams are the path parameters that are request fields rather than
// segments of a resource name, keyed by the path they appear in.
var fieldPathParams = map[string][]string{
	"/v1/events/{cursor}": {"cursor"},
}

func TestOpenAPIPathParametersNameTheResource(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for path := range doc.Paths {
		segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
		for i, seg := range segments {
			m := pathParam.FindStringSubmatch(seg)
			if m == nil {
				continue
			}
			param := m[1]
			if slices.Contains(fieldPathParams[path], param) {
				continue
			}
			// The segment before a parameter is its collection, plural or
			// not: orgs/{org}, chatrooms/{chatroom}, blocklist/{blocklist}.
			collection := ""
			if i > 0 {
				collection = segments[i-1]
			}
			whole := seg == "{"+param+"}" || strings.HasPrefix(seg, "{"+param+"}:") // :verb of a custom method
			if !whole || (collection != param && collection != param+"s") {
				t.Errorf("path %q: parameter {%s} does not follow its collection (%q)", path, param, collection)
			}
		}
	}
	// The resource name of a chatroom, spelled out.
	chatroom := doc.Paths["/v1/orgs/{org}/apps/{app}/chatrooms/{chatroom}"]
	for _, method := range []string{"get", "patch", "delete"} {
		if _, ok := chatroom[method]; !ok {
			t.Errorf("no %s /v1/orgs/{org}/apps/{app}/chatrooms/{chatroom} (GetChatroom, UpdateChatroom, DeleteChatroom)", strings.ToUpper(method))
		}
	}
}

func TestOpenAPIOperationsDeclareTheirPathParameters(t *testing.T) {
	t.Parallel()
	for key, op := range operations(t, loadOpenAPI(t)) {
		path := key[strings.Index(key, " ")+1:]
		var want, got []string
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			want = append(want, m[1])
		}
		for _, p := range op.Parameters {
			if p.In == "path" {
				got = append(got, p.Name)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s (%s): path parameters %v, template has %v", key, op.OperationID, got, want)
		}
	}
}

func TestOpenAPIInfo(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if doc.Info.Title != "imbridge" {
		t.Errorf("info.title = %q, want %q", doc.Info.Title, "imbridge")
	}
	if doc.Info.Version == "" {
		t.Error("info.version is empty")
	}
}

func TestOpenAPIBearerSecurity(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var bearer []string
	for name, def := range doc.SecurityDefinitions {
		if def.Type == "apiKey" && def.In == "header" && strings.EqualFold(def.Name, "Authorization") {
			bearer = append(bearer, name)
		}
	}
	if len(bearer) != 1 {
		t.Fatalf("security definitions %+v: want exactly one apiKey in the Authorization header, got %v", doc.SecurityDefinitions, bearer)
	}
	applied := func(reqs []map[string][]string) bool {
		return slices.ContainsFunc(reqs, func(req map[string][]string) bool {
			_, ok := req[bearer[0]]
			return ok
		})
	}
	if !applied(doc.Security) {
		t.Errorf("document security %v does not apply %q", doc.Security, bearer[0])
	}
	for key, op := range operations(t, doc) {
		if op.Security != nil && !applied(*op.Security) {
			t.Errorf("%s (%s) overrides security with %v, without %q", key, op.OperationID, *op.Security, bearer[0])
		}
	}
}

// The document served asks a PATCH body for nothing: an update changes
// what it sends, and the resource's create-time required fields (owner
// among them) are refused there. Creating still requires them.
func TestServedOpenAPIPatchBodiesRequireNothing(t *testing.T) {
	t.Parallel()
	s := startStack(t, gateway.Options{})
	res := s.get(t, "/openapi.json")
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				In     string `json:"in"`
				Schema struct {
					Ref      string   `json:"$ref"`
					Required []string `json:"required"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
		Definitions map[string]struct {
			Required []string `json:"required"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil || res.code != 200 {
		t.Fatalf("GET /openapi.json: %d %v", res.code, err)
	}
	body := func(path, method string) (required []string) {
		for _, p := range doc.Paths[path][method].Parameters {
			if p.In == "body" && p.Schema.Ref != "" {
				return doc.Definitions[strings.TrimPrefix(p.Schema.Ref, "#/definitions/")].Required
			}
			if p.In == "body" {
				return p.Schema.Required
			}
		}
		t.Fatalf("%s %s has no body", method, path)
		return nil
	}
	if got := body("/v1/orgs/{org}/apps/{app}/chatrooms/{chatroom}", "patch"); len(got) != 0 {
		t.Errorf("PATCH chatroom body requires %v", got)
	}
	if got := body("/v1/orgs/{org}/apps/{app}/chatrooms", "post"); !slices.Contains(got, "owner") {
		t.Errorf("POST chatroom body requires %v, want owner among them", got)
	}
}
