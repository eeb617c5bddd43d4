from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Input that refuses fields it does not know: a misspelt field name is a mistake to
    report, not something to drop silently. Reported together with the other errors."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, dict):
            unknown = {name: ["unknown field"] for name in sorted(set(data) - set(self.fields))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from error
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value
