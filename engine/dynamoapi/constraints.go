package dynamoapi

import (
	"strings"

	"github.com/sluicedb/sluice/engine/wire"
)

// The request-constraint machinery (Violations, the rule texts and their
// one message format) is engine/wire's, shared with the Streams API; this
// file holds DynamoDB's enum sets and renderings.

// violations is wire.Violations, under the name the handlers use.
type violations = wire.Violations

// Enum value sets, in the order DynamoDB lists them.
var (
	enumReturnConsumedCapacity  = []string{"INDEXES", "TOTAL", "NONE"}
	enumReturnValues            = []string{"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}
	enumReturnItemCollection    = []string{"SIZE", "NONE"}
	enumReturnValuesOnCondition = []string{"ALL_OLD", "NONE"}
	enumConditionalOperator     = []string{"OR", "AND"} // in the order DynamoDB lists them (recorded)
	enumBillingMode             = []string{"PROVISIONED", "PAY_PER_REQUEST"}
	enumKeyType                 = []string{"HASH", "RANGE"}
	enumAttributeType           = []string{"B", "N", "S"}
	enumProjectionType          = []string{"ALL", "KEYS_ONLY", "INCLUDE"}
	enumStreamViewType          = []string{"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"}
	enumTableClass              = []string{"STANDARD", "STANDARD_INFREQUENT_ACCESS"}
)

// javaList renders strings as Java's List.toString: "[a, b]".
func javaList(items []string) string {
	return "[" + strings.Join(items, ", ") + "]"
}

// Messages of the semantic checks that follow the constraints, shared by
// several operations.
const (
	paramsInvalid = "One or more parameter values were invalid: "
)
